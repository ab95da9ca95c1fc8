package docker

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/netip"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/moby/moby/api/types/container"
	nettypes "github.com/moby/moby/api/types/network"
	"github.com/moby/moby/client"
	"github.com/testcontainers/testcontainers-go"
	tclog "github.com/testcontainers/testcontainers-go/log"
	"github.com/testcontainers/testcontainers-go/network"
	"github.com/testcontainers/testcontainers-go/wait"

	"github.com/taskready/taskready/env"
)

// Deadlines of the docker provider.
const (
	// dockerReadyTimeout bounds how long a started (or restarted)
	// container may take to answer.
	dockerReadyTimeout = 60 * time.Second
	// dockerSyncTimeout bounds replication links, Sentinel discovery and
	// replica-set elections.
	dockerSyncTimeout = 60 * time.Second
	// dockerTryTimeout bounds one probe (a PING, a hello).
	dockerTryTimeout = 2 * time.Second
	// dockerLogLines is how much of a container's output errors quote.
	dockerLogLines = 15
)

// dockerSpec says how to run one container of an environment.
type dockerSpec struct {
	name  string            // the component name, also its alias on the network
	image string            // the image to run
	cmd   []string          // nil keeps the image's command
	env   map[string]string // added to the image's environment
	port  int               // the port it serves on inside the network
	files []testcontainers.ContainerFile
	// ping succeeds when the server answers on addr ("127.0.0.1:port").
	ping func(ctx context.Context, addr string) error
}

// dockerNode is one running container. It is the env.Component faults
// act on: Stop, Start, Pause, Unpause and Kill go to the engine, and Start
// returns once the server answers again, on the same addresses.
type dockerNode struct {
	name string
	env  *dockerEnv
	ctr  *testcontainers.DockerContainer
	// ip is the node's fixed address on the private network.
	ip   netip.Addr
	port int
	// hostPort is the fixed loopback port bound to port, so the address
	// the host uses survives a restart.
	hostPort int
	ping     func(ctx context.Context, addr string) error
}

var _ env.Component = (*dockerNode)(nil)

// hostAddr is where the host reaches the node: 127.0.0.1 and its fixed port.
func (n *dockerNode) hostAddr() string {
	return net.JoinHostPort("127.0.0.1", strconv.Itoa(n.hostPort))
}

// netAddr is where other containers reach the node.
func (n *dockerNode) netAddr() string {
	return net.JoinHostPort(n.ip.String(), strconv.Itoa(n.port))
}

// run starts a container on the environment's network, on a fixed address
// and a fixed loopback port, and waits until it answers. A container
// that was created is recorded for close even when run fails.
func (d *dockerEnv) run(ctx context.Context, s dockerSpec) (*dockerNode, error) {
	start := time.Now()
	hostPort, err := d.addrs.hostPort()
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	n := &dockerNode{name: s.name, env: d, ip: d.addrs.ip(), port: s.port, hostPort: hostPort, ping: s.ping}
	port, err := nettypes.ParsePort(strconv.Itoa(s.port) + "/tcp")
	if err != nil {
		return nil, fmt.Errorf("%s: %w", s.name, err)
	}
	labels := maps.Clone(d.labels)
	labels[LabelComponent] = s.name
	opts := []testcontainers.ContainerCustomizer{
		// Errors carry what matters; the harness prints its own progress.
		testcontainers.WithLogger(tclog.NewNoopLogger()),
		testcontainers.WithName("taskready-" + d.id + "-" + s.name),
		testcontainers.WithLabels(labels),
		network.WithNetwork([]string{s.name}, d.net),
		testcontainers.WithExposedPorts(port.String()),
		// A fixed host port: the engine would pick a new random one on
		// every start, and the API processes' URIs would go stale.
		testcontainers.WithHostConfigModifier(func(hc *container.HostConfig) {
			hc.PortBindings = nettypes.PortMap{port: {{
				HostIP:   netip.AddrFrom4([4]byte{127, 0, 0, 1}),
				HostPort: strconv.Itoa(hostPort),
			}}}
		}),
		// A fixed network address, for the same reason: Podman hands out
		// a new one on every start, which would strand replication links,
		// Sentinel's view and replica-set members. And a fixed MAC address
		// to go with it: with a new MAC on every start, the peers' ARP
		// caches would send a restarted node's traffic nowhere for half a
		// minute.
		testcontainers.WithEndpointSettingsModifier(func(eps map[string]*nettypes.EndpointSettings) {
			if es := eps[d.net.Name]; es != nil && n.ip.IsValid() {
				es.IPAMConfig = &nettypes.EndpointIPAMConfig{IPv4Address: n.ip}
				es.MacAddress = dockerMAC(n.ip)
			}
		}),
		testcontainers.WithFiles(s.files...),
		testcontainers.WithWaitStrategy(dockerReady{n}),
	}
	if s.cmd != nil {
		opts = append(opts, testcontainers.WithCmd(s.cmd...))
	}
	if s.env != nil {
		opts = append(opts, testcontainers.WithEnv(s.env))
	}
	ctr, err := testcontainers.Run(ctx, s.image, opts...)
	if ctr != nil {
		n.ctr = ctr
		d.mu.Lock()
		d.nodes = append(d.nodes, n)
		d.mu.Unlock()
	}
	if err != nil {
		return nil, fmt.Errorf("%s (%s): %w", s.name, s.image, err)
	}
	if !n.ip.IsValid() {
		// The engine chose the address (a network without a subnet we
		// could read); it holds until the container restarts.
		inspect, err := ctr.Inspect(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: inspect: %w", s.name, err)
		}
		if es := inspect.NetworkSettings.Networks[d.net.Name]; es != nil {
			n.ip = es.IPAddress
		}
	}
	d.timing(s.name, time.Since(start))
	return n, nil
}

// dockerReady is the wait strategy of every node: the container runs and
// the server answers its ping from the host, within dockerReadyTimeout.
// testcontainers runs it after the first start and after every Start.
type dockerReady struct{ n *dockerNode }

var _ wait.Strategy = dockerReady{}

// WaitUntilReady implements wait.Strategy.
func (r dockerReady) WaitUntilReady(ctx context.Context, target wait.StrategyTarget) error {
	ctx, cancel := context.WithTimeout(ctx, dockerReadyTimeout)
	defer cancel()
	last := errors.New("no answer yet")
	for {
		state, err := target.State(ctx)
		switch {
		case err != nil:
			last = err
		case state.Status == container.StateExited:
			return fmt.Errorf("%s exited with code %d before it answered%s", r.n.name, state.ExitCode, dockerLastLogs(target))
		default:
			tctx, tcancel := context.WithTimeout(ctx, dockerTryTimeout)
			last = r.n.ping(tctx, r.n.hostAddr())
			tcancel()
			if last == nil {
				return nil
			}
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s did not answer on %s within %s: %v%s", r.n.name, r.n.hostAddr(), dockerReadyTimeout, last, dockerLastLogs(target))
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// dockerLastLogs quotes the last lines a container printed, for errors.
func dockerLastLogs(target interface {
	Logs(context.Context) (io.ReadCloser, error)
}) string {
	if target == nil {
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	rc, err := target.Logs(ctx)
	if err != nil {
		return ""
	}
	defer rc.Close()
	lines := lastLines(rc, dockerLogLines)
	if len(lines) == 0 {
		return "; it printed nothing"
	}
	return "; it printed last:\n\t" + strings.Join(lines, "\n\t")
}

// lastLines returns the last n non-empty lines of r.
func lastLines(r io.Reader, n int) []string {
	var lines []string
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if l := strings.TrimRight(sc.Text(), "\r "); l != "" {
			lines = append(lines, l)
			if len(lines) > n {
				lines = lines[1:]
			}
		}
	}
	return lines
}

// errorf prefixes an error with the node's name and appends its last logs.
func (n *dockerNode) errorf(format string, args ...any) error {
	var logs string
	if n.ctr != nil {
		logs = dockerLastLogs(n.ctr)
	}
	return fmt.Errorf("%s: %w%s", n.name, fmt.Errorf(format, args...), logs)
}

// Name implements env.Component.
func (n *dockerNode) Name() string { return n.name }

// Stop stops the container gracefully (the engine kills it after 10 s).
func (n *dockerNode) Stop(ctx context.Context) error {
	timeout := 10 * time.Second
	if err := n.ctr.Stop(ctx, &timeout); err != nil {
		return fmt.Errorf("%s: stop: %w", n.name, err)
	}
	return nil
}

// Start starts a stopped or killed container and returns once it answers
// again on the same addresses. Starting a running container is a no-op.
func (n *dockerNode) Start(ctx context.Context) error {
	if err := n.ctr.Start(ctx); err != nil {
		return fmt.Errorf("%s: start: %w", n.name, err)
	}
	return nil
}

// Pause freezes every process of the container: connections hang.
func (n *dockerNode) Pause(ctx context.Context) error {
	if _, err := n.env.cli.ContainerPause(ctx, n.ctr.GetContainerID(), client.ContainerPauseOptions{}); err != nil {
		return fmt.Errorf("%s: pause: %w", n.name, err)
	}
	return nil
}

// Unpause resumes a paused container.
func (n *dockerNode) Unpause(ctx context.Context) error {
	if _, err := n.env.cli.ContainerUnpause(ctx, n.ctr.GetContainerID(), client.ContainerUnpauseOptions{}); err != nil {
		return fmt.Errorf("%s: unpause: %w", n.name, err)
	}
	return nil
}

// Kill sends SIGKILL and returns once the container has stopped.
func (n *dockerNode) Kill(ctx context.Context) error {
	if _, err := n.env.cli.ContainerKill(ctx, n.ctr.GetContainerID(), client.ContainerKillOptions{Signal: "KILL"}); err != nil {
		return fmt.Errorf("%s: kill: %w", n.name, err)
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	for {
		state, err := n.ctr.State(ctx)
		if err == nil && !state.Running {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s: kill: still running after SIGKILL: %w", n.name, ctx.Err())
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// dockerAddrs hands out the fixed addresses of an environment's nodes:
// network addresses from the private network's subnet, and free loopback
// ports on the host.
type dockerAddrs struct {
	mu   sync.Mutex
	next netip.Addr // invalid when the subnet is unknown
	last netip.Addr
	// taken are the host ports handed out, so two nodes never share one
	// even if the kernel offers it twice.
	taken map[int]bool
}

// newDockerAddrs reads the subnet of the network netID.
func newDockerAddrs(ctx context.Context, cli client.APIClient, netID string) (*dockerAddrs, error) {
	res, err := cli.NetworkInspect(ctx, netID, client.NetworkInspectOptions{})
	if err != nil {
		return nil, fmt.Errorf("inspect network: %w", err)
	}
	a := &dockerAddrs{taken: map[int]bool{}}
	for _, c := range res.Network.IPAM.Config {
		if p := c.Subnet.Masked(); p.Addr().Is4() && p.Bits() <= 28 {
			a.next, a.last = dockerNthAddr(p, 10), dockerLastAddr(p)
			break
		}
	}
	return a, nil
}

// ip returns the next free network address, or an invalid one when the
// engine must choose.
func (a *dockerAddrs) ip() netip.Addr {
	a.mu.Lock()
	defer a.mu.Unlock()
	if !a.next.IsValid() || !a.next.Less(a.last) {
		return netip.Addr{}
	}
	ip := a.next
	a.next = a.next.Next()
	return ip
}

// hostPort returns a loopback port that is free now and not handed out
// before.
func (a *dockerAddrs) hostPort() (int, error) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for range 20 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, fmt.Errorf("free port: %w", err)
		}
		port := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if !a.taken[port] {
			a.taken[port] = true
			return port, nil
		}
	}
	return 0, errors.New("free port: none found")
}

// dockerNthAddr is the n-th address of p (p's own address is the 0th).
func dockerNthAddr(p netip.Prefix, n int) netip.Addr {
	b := p.Addr().As4()
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	v += uint32(n)
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// dockerMAC is a locally administered MAC address made of ip, as Docker
// derives its own (02:42:a.b.c.d).
func dockerMAC(ip netip.Addr) nettypes.HardwareAddr {
	b := ip.As4()
	return nettypes.HardwareAddr{0x02, 0x42, b[0], b[1], b[2], b[3]}
}

// dockerLastAddr is p's broadcast address.
func dockerLastAddr(p netip.Prefix) netip.Addr {
	return dockerNthAddr(p, 1<<(32-p.Bits())-1)
}

// dockerRoutable reports whether the host reaches addr, a node's address
// on the private network. On Linux (Docker Engine, rootful Podman) the
// host routes to its bridge networks; on Docker Desktop and rootless
// Podman it does not.
func dockerRoutable(ctx context.Context, addr string) bool {
	ctx, cancel := context.WithTimeout(ctx, dockerTryTimeout)
	defer cancel()
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", addr)
	if err != nil {
		return false
	}
	_ = conn.Close()
	return true
}

// nodesNamed returns the nodes whose name starts with prefix, including
// those whose container was created but did not become ready.
func (d *dockerEnv) nodesNamed(prefix string) []*dockerNode {
	d.mu.Lock()
	defer d.mu.Unlock()
	var out []*dockerNode
	for _, n := range d.nodes {
		if strings.HasPrefix(n.name, prefix) {
			out = append(out, n)
		}
	}
	return out
}

// drop removes a node the environment no longer needs. If the engine
// fails to remove it, close sweeps it up by label.
func (d *dockerEnv) drop(ctx context.Context, n *dockerNode) error {
	d.mu.Lock()
	d.nodes = slices.DeleteFunc(d.nodes, func(m *dockerNode) bool { return m == n })
	d.mu.Unlock()
	if err := testcontainers.TerminateContainer(n.ctr, testcontainers.StopContext(ctx), testcontainers.StopTimeout(0)); err != nil {
		return fmt.Errorf("remove %s: %w", n.name, err)
	}
	return nil
}
