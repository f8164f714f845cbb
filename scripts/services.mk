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
