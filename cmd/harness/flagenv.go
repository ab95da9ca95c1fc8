package main

import (
	"flag"
	"fmt"
	"strings"
)

// envName is the variable that sets the flag name of every command that
// has it: HARNESS_<FLAG>, as k6 reads K6_<FLAG> and as HARNESS_MONGO_IMAGE
// was already read. One variable per flag name, not per command, so that
// HARNESS_TARGET points every command at the same API; a per-command form
// would also collide (seed -users and run -seed-users would both be
// HARNESS_SEED_USERS).
func envName(flagName string) string {
	return "HARNESS_" + strings.ToUpper(strings.ReplaceAll(flagName, "-", "_"))
}

// applyEnv sets every flag of fs that the command line left unset from
// the environment (lookup, os.LookupEnv outside tests), so that the
// command line wins over the environment, and the environment over the
// defaults. A value the flag refuses is a usage error naming the variable.
// A repeatable flag takes one value from the environment.
func applyEnv(fs *flag.FlagSet, lookup func(string) (string, bool)) error {
	set := map[string]bool{}
	fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
	var err error
	fs.VisitAll(func(f *flag.Flag) {
		if err != nil || set[f.Name] {
			return
		}
		name := envName(f.Name)
		if v, ok := lookup(name); ok {
			if e := fs.Set(f.Name, v); e != nil {
				err = fmt.Errorf("%w: %s=%q: invalid value for -%s: %v", errUsage, name, v, f.Name, e)
			}
		}
	})
	return err
}

// envHelp is the line of a command's help that says how its flags are
// set from the environment, with the first of them as the example.
func envHelp(fs *flag.FlagSet) string {
	example := ""
	fs.VisitAll(func(f *flag.Flag) {
		if example == "" {
			example = fmt.Sprintf("-%s is %s", f.Name, envName(f.Name))
		}
	})
	return fmt.Sprintf("environment: a flag the command line leaves unset is read from HARNESS_<FLAG>\n(%s); the command line wins", example)
}
