package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/taskready/taskready/internal/pki"
)

// certsOptions are the flags of harness certs.
type certsOptions struct {
	fs    *flag.FlagSet
	dir   string
	hosts string
	days  int
}

func certsCmd() command {
	fs := flag.NewFlagSet("certs", flag.ContinueOnError)
	o := certsOptions{fs: fs}
	fs.StringVar(&o.dir, "dir", "tls", "the directory of "+pki.CertFile+", "+pki.KeyFile+" and (for one made here) "+pki.CAFile)
	fs.StringVar(&o.hosts, "hosts", "localhost,127.0.0.1,::1", "comma-separated host names and IP addresses the certificate must name")
	fs.IntVar(&o.days, "days", 397, "validity of a certificate made here, in days (397: what browsers accept from a public authority)")
	usage := `usage: harness certs [-dir DIR] [-hosts H1,H2] [-days N]

Make sure -dir holds a TLS certificate and key, as the compose stack's
nginx reads them at its start. With neither file there, a throwaway
authority (its key kept only in memory) issues a certificate for -hosts,
and its own certificate is written beside it as ` + pki.CAFile + `: what clients
trust (curl --cacert, harness check -ca-file, SSL_CERT_FILE). A pair
that is there is checked (it must parse, and the key must match) and
kept; one made here is renewed when under 30 days of validity are left
or a host of -hosts is missing. A certificate you put there is never
replaced. Exit 0 when the directory holds a usable pair, 1 when not.`
	return command{fs: fs, help: "make sure a directory holds a TLS certificate: a throwaway authority's when none is there", usage: usage, run: o.run}
}

func (o *certsOptions) run(_ context.Context, out io.Writer) error {
	if o.fs.NArg() > 0 {
		return fmt.Errorf("%w: certs takes no arguments (got %q)", errUsage, o.fs.Args())
	}
	var hosts []string
	for h := range strings.SplitSeq(o.hosts, ",") {
		if h = strings.TrimSpace(h); h != "" {
			hosts = append(hosts, h)
		}
	}
	if len(hosts) == 0 || o.days < 1 {
		return fmt.Errorf("%w: -hosts must name at least one host and -days be at least 1", errUsage)
	}
	res, err := pki.EnsureDir(o.dir, hosts, time.Duration(o.days)*24*time.Hour, time.Now())
	if err != nil {
		return err
	}
	leaf := res.Leaf
	names := append([]string(nil), leaf.DNSNames...)
	for _, ip := range leaf.IPAddresses {
		names = append(names, ip.String())
	}
	fmt.Fprintf(out, "harness certs: %s %s: %s, for %s, valid until %s\n", o.dir, res.Action, leaf.Subject.CommonName,
		strings.Join(names, ", "), leaf.NotAfter.UTC().Format("2006-01-02"))
	if res.Ours {
		fmt.Fprintf(out, "  clients trust it through %s/%s\n", strings.TrimRight(o.dir, "/"), pki.CAFile)
	}
	if left := time.Until(leaf.NotAfter); left <= 0 {
		fmt.Fprintf(out, "  warning: it expired on %s; replace it (harness check reports it as https.expiry)\n", leaf.NotAfter.UTC().Format("2006-01-02"))
	}
	return nil
}
