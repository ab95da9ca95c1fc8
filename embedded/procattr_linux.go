//go:build linux

package embedded

import (
	"errors"
	"os"
	"os/user"
	"strconv"
	"syscall"
)

// sysProcAttr puts a child server in its own process group (so that the
// whole group can be killed) and has the kernel kill it if this process
// dies without calling Close.
func sysProcAttr() *syscall.SysProcAttr {
	return &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
}

// postgresProcAttr is sysProcAttr for initdb and postgres, which refuse to
// run as root. Run by root, they get a user namespace of their own in
// which they are an ordinary account (postgres, else nobody: one that
// /etc/passwd names, as initdb looks itself up) mapped to root outside.
// So their files stay root's and any directory root can reach works,
// without a chown or a second account's permissions.
func postgresProcAttr() (*syscall.SysProcAttr, error) {
	attr := sysProcAttr()
	if os.Geteuid() != 0 {
		return attr, nil
	}
	var id int
	for _, name := range []string{"postgres", "nobody"} {
		u, err := user.Lookup(name)
		if err != nil {
			continue
		}
		if n, err := strconv.Atoi(u.Uid); err == nil && n != 0 {
			id = n
			break
		}
	}
	if id == 0 {
		return nil, errors.New("PostgreSQL refuses to run as root, and there is no postgres or nobody account to run it as")
	}
	attr.Cloneflags = syscall.CLONE_NEWUSER
	attr.UidMappings = []syscall.SysProcIDMap{{ContainerID: id, HostID: 0, Size: 1}}
	attr.GidMappings = []syscall.SysProcIDMap{{ContainerID: id, HostID: 0, Size: 1}}
	return attr, nil
}
