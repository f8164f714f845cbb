# Real Kafka (KRaft) + Elasticsearch on loopback for tests; see scripts/services.sh.
# Included from the main Makefile:  include scripts/services.mk
# Use the environment (MWLEDGER_KAFKA_PORT, MWLEDGER_ES_PORT, MWLEDGER_STATE_DIR, ...)
# to configure; `eval "$$(scripts/services.sh env)"` exports MWLEDGER_KAFKA / MWLEDGER_ES.

SERVICES_SH := $(patsubst %/,%,$(dir $(lastword $(MAKEFILE_LIST))))/services.sh

.PHONY: services-up services-down services-status

services-up:
	@bash $(SERVICES_SH) up

services-down:
	@bash $(SERVICES_SH) down

services-status:
	@bash $(SERVICES_SH) status

# The cluster mode: three Kafka brokers and three Elasticsearch nodes on
# loopback (scripts/cluster.sh; MWLEDGER_CLUSTER_* configure it).
.PHONY: services-cluster-up services-cluster-down services-cluster-status

services-cluster-up:
	@bash $(SERVICES_SH) up --cluster

services-cluster-down:
	@bash $(SERVICES_SH) down --cluster

services-cluster-status:
	@bash $(SERVICES_SH) status --cluster
