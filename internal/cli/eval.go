package cli

import "context"

func runEval(ctx context.Context, e *env, args []string) error {
	return usageError{"eval: not built yet"}
}
