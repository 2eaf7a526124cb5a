// Command fakeservice stands in for shapesync in the harness's own tests:
// it serves /v1/health and /v1/status on ELECTRIC_PORT, /metrics on
// ELECTRIC_ADMIN_PORT, counts its starts in ELECTRIC_STORAGE_DIR and exits
// 0 on SIGTERM. FAKESERVICE_* variables make it misbehave on purpose:
//
//	FAKESERVICE_LISTEN_AFTER=<duration>  wait that long before listening
//	FAKESERVICE_STARTING_FOR=<duration>  answer 202 "starting" for that long
//	FAKESERVICE_IGNORE_TERM=1            ignore SIGTERM
//	FAKESERVICE_EXIT_CODE=<n>            exit code on SIGTERM or EXIT_AFTER
//	FAKESERVICE_EXIT_AFTER=<duration>    exit by itself after that long
//	FAKESERVICE_ADDR_IN_USE_ONCE=<file>  fail to bind once (creates file)
//	FAKESERVICE_LEAVE_CHILD=1            start a child and leave it running
//	FAKESERVICE_ECHO_ENV=A,B             print those variables at start
package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	if len(os.Args) > 1 && os.Args[1] == "sleeper" {
		time.Sleep(time.Hour)
		return
	}
	os.Exit(run())
}

func run() int {
	// Subscribe before anything can go wrong, so a SIGTERM during start-up
	// is handled like one later.
	term := make(chan os.Signal, 1)
	signal.Notify(term, syscall.SIGTERM)
	if os.Getenv("FAKESERVICE_IGNORE_TERM") == "1" {
		signal.Ignore(syscall.SIGTERM)
	}
	exitCode, _ := strconv.Atoi(os.Getenv("FAKESERVICE_EXIT_CODE"))

	port := os.Getenv("ELECTRIC_PORT")
	storage := os.Getenv("ELECTRIC_STORAGE_DIR")
	starts, err := countStart(storage)
	if err != nil {
		fmt.Fprintln(os.Stderr, "fakeservice:", err)
		return 1
	}
	if marker := os.Getenv("FAKESERVICE_ADDR_IN_USE_ONCE"); marker != "" {
		if _, err := os.Stat(marker); errors.Is(err, os.ErrNotExist) {
			_ = os.WriteFile(marker, nil, 0o644)
			fmt.Fprintf(os.Stderr, "fakeservice: listen tcp 127.0.0.1:%s: bind: address already in use\n", port)
			return 1
		}
	}
	fmt.Printf("fakeservice: pid=%d port=%s storage=%s starts=%d faults=%t\n", os.Getpid(), port, storage, starts, faultsBuild)
	fmt.Fprintln(os.Stderr, "fakeservice: this line went to stderr")
	if names := os.Getenv("FAKESERVICE_ECHO_ENV"); names != "" {
		for _, name := range strings.Split(names, ",") {
			v, ok := os.LookupEnv(name)
			fmt.Printf("fakeservice: env %s=%q set=%t\n", name, v, ok)
		}
	}

	if d, err := time.ParseDuration(os.Getenv("FAKESERVICE_LISTEN_AFTER")); err == nil {
		select {
		case <-time.After(d):
		case <-term:
			return exitCode
		}
	}
	started := time.Now()
	startingFor, _ := time.ParseDuration(os.Getenv("FAKESERVICE_STARTING_FOR"))
	state := func() string {
		if time.Since(started) < startingFor {
			return "starting"
		}
		return "live"
	}
	mux := http.NewServeMux()
	mux.HandleFunc("/v1/health", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "application/json; charset=utf-8")
		if state() == "starting" {
			w.WriteHeader(http.StatusAccepted)
			fmt.Fprint(w, `{"status":"starting"}`)
			return
		}
		fmt.Fprint(w, `{"status":"active"}`)
	})
	mux.HandleFunc("/v1/status", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("content-type", "application/json; charset=utf-8")
		reasons := `[]`
		if state() == "starting" {
			reasons = `["fake: still starting"]`
		}
		fmt.Fprintf(w, `{"state":%q,"reasons":%s,"received_lsn":"0/16B3748","durable_lsn":"0/16B3700","acked_lsn":"0/16B3000"}`, state(), reasons)
	})
	if os.Getenv("FAKESERVICE_LEAVE_CHILD") == "1" {
		// Started before listening, so it exists once health answers. Its
		// output is not the service's pipe: only the process group ties it
		// to us.
		sleeper := exec.Command(os.Args[0], "sleeper")
		if err := sleeper.Start(); err != nil {
			fmt.Fprintln(os.Stderr, "fakeservice: start sleeper:", err)
			return 1
		}
		fmt.Printf("fakeservice: sleeper pid=%d\n", sleeper.Process.Pid)
	}

	if err := serve(port, mux); err != nil {
		fmt.Fprintln(os.Stderr, "fakeservice:", err)
		return 1
	}
	admin := http.NewServeMux()
	admin.HandleFunc("/metrics", func(w http.ResponseWriter, _ *http.Request) {
		fmt.Fprintf(w, "fakeservice_starts %d\n", starts)
	})
	if err := serve(os.Getenv("ELECTRIC_ADMIN_PORT"), admin); err != nil {
		fmt.Fprintln(os.Stderr, "fakeservice: admin:", err)
		return 1
	}

	var exitAfter <-chan time.Time
	if d, err := time.ParseDuration(os.Getenv("FAKESERVICE_EXIT_AFTER")); err == nil {
		exitAfter = time.After(d)
	}
	select {
	case <-term:
		fmt.Println("fakeservice: SIGTERM, exiting")
	case <-exitAfter:
		fmt.Println("fakeservice: exiting by itself")
	}
	return exitCode
}

func serve(port string, h http.Handler) error {
	l, err := net.Listen("tcp", "127.0.0.1:"+port)
	if err != nil {
		return err
	}
	go func() { _ = http.Serve(l, h) }()
	return nil
}

// countStart increments the start counter kept in dir, so a test can see
// that a restart reused the storage directory.
func countStart(dir string) (int, error) {
	path := filepath.Join(dir, "starts")
	n := 0
	if b, err := os.ReadFile(path); err == nil {
		n, _ = strconv.Atoi(strings.TrimSpace(string(b)))
	}
	n++
	if err := os.WriteFile(path, []byte(strconv.Itoa(n)), 0o644); err != nil {
		return 0, fmt.Errorf("count start: %w", err)
	}
	return n, nil
}
