//go:build crashpoints

package bolt

import (
	"os"
	"syscall"
)

// crashpointEnv names the environment variable that picks the crash point
// of a build with the crashpoints tag: "before_commit" (the transaction is
// complete but not committed) or "after_commit" (committed and synced, not
// yet acknowledged to any caller).
const crashpointEnv = "LEDGER_CRASHPOINT"

// crashpoint kills the process with SIGKILL, as a power cut would stop it,
// when name is the crash point chosen by LEDGER_CRASHPOINT: nothing deferred
// runs and nothing more is written.
func crashpoint(name string) {
	if os.Getenv(crashpointEnv) == name {
		_ = syscall.Kill(os.Getpid(), syscall.SIGKILL)
		select {} // SIGKILL is not delivered synchronously; never go on.
	}
}
