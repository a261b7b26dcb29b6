package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// checkPorts tries to listen on every address before anything starts, so an occupied port is
// reported once, with the flag that moves it, instead of as one service's bind error in the
// middle of a start. Two settings naming the same port are reported too.
func checkPorts(ls []listen) error {
	var problems []string
	byPort := map[int]listen{}
	for _, l := range ls {
		_, port, err := splitAddr(l.Addr)
		if err != nil {
			problems = append(problems, fmt.Sprintf("%s address %q (--%s): %v", l.What, l.Addr, l.Flag, err))
			continue
		}
		if other, ok := byPort[port]; ok {
			problems = append(problems, fmt.Sprintf("port %d is given twice, for %s (--%s) and %s (--%s); change one of them",
				port, other.What, other.Flag, l.What, l.Flag))
			continue
		}
		byPort[port] = l
		ln, err := net.Listen("tcp", l.Addr)
		if err != nil {
			problems = append(problems, portProblem(l, port, err))
			continue
		}
		ln.Close()
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "\n"))
	}
	return nil
}

func portProblem(l listen, port int, err error) string {
	change := fmt.Sprintf("change it with --%s (or %s), or use --free-ports", l.Flag, envName(l.Flag))
	if errors.Is(err, syscall.EADDRINUSE) {
		return fmt.Sprintf("port %d is in use (%s); %s", port, l.What, change)
	}
	return fmt.Sprintf("cannot listen on %s (%s): %v; %s", l.Addr, l.What, err, change)
}

// pickFreePorts rewrites every address to a port the kernel reports free, on the address's own
// host. All listeners stay open until every port is chosen, so no two coincide; another
// process can still take one before the service binds it, which then fails the start loudly.
func pickFreePorts(addrs []*string) error {
	var open []io.Closer
	defer func() {
		for _, c := range open {
			c.Close()
		}
	}()
	for _, a := range addrs {
		host, _, err := net.SplitHostPort(*a)
		if err != nil {
			return fmt.Errorf("address %q: %w", *a, err)
		}
		ln, err := net.Listen("tcp", net.JoinHostPort(host, "0"))
		if err != nil {
			return fmt.Errorf("pick a free port on %q: %w", host, err)
		}
		open = append(open, ln)
		*a = net.JoinHostPort(host, strconv.Itoa(ln.Addr().(*net.TCPAddr).Port))
	}
	return nil
}
