package cli

import "context"

func runCrawl(ctx context.Context, e *env, args []string) error  { return nil }
func runIndex(ctx context.Context, e *env, args []string) error  { return nil }
func runRun(ctx context.Context, e *env, args []string) error    { return nil }
func runSearch(ctx context.Context, e *env, args []string) error { return nil }
func runEval(ctx context.Context, e *env, args []string) error   { return nil }
