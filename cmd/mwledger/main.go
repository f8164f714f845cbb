// Command mwledger turns news about compute-infrastructure deals into a searchable
// ledger of contracts. Run `mwledger help` for the subcommands.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"syscall"

	"github.com/mwledger/mwledger/internal/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := cli.Run(ctx, os.Args[1:], os.Stdin, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "mwledger:", err)
		os.Exit(cli.ExitCode(err))
	}
}
