// Command loadtool supports bench/load.sh: a counting upstream, and a file
// of distinct, validly signed compose callbacks for wrk to rotate through.
//
//	loadtool upstream -addr 127.0.0.1:18090
//	loadtool bodies -n 500000 -secret-env ZEGO_CALLBACK_SECRET -out bodies.txt
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"log"
	"net/http"
	"os"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

func main() {
	if len(os.Args) < 2 {
		log.Fatal("usage: loadtool upstream|bodies [flags]")
	}
	switch os.Args[1] {
	case "upstream":
		upstream(os.Args[2:])
	case "bodies":
		bodies(os.Args[2:])
	default:
		log.Fatalf("unknown subcommand %q", os.Args[1])
	}
}

// upstream answers every POST 200 and counts it; GET /count reports the
// count.
func upstream(args []string) {
	flags := flag.NewFlagSet("upstream", flag.ExitOnError)
	addr := flags.String("addr", "127.0.0.1:18090", "listen address (loopback only)")
	_ = flags.Parse(args)
	var count atomic.Int64
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodGet && r.URL.Path == "/count" {
			fmt.Fprintln(w, count.Load())
			return
		}
		_, _ = io.Copy(io.Discard, r.Body)
		count.Add(1)
		w.WriteHeader(http.StatusOK)
	})
	server := &http.Server{Addr: *addr, Handler: handler, ReadHeaderTimeout: 5 * time.Second}
	log.Fatal(server.ListenAndServe())
}

// bodies writes n distinct compose callbacks, one per line, signed now.
func bodies(args []string) {
	flags := flag.NewFlagSet("bodies", flag.ExitOnError)
	n := flags.Int("n", 500_000, "how many callbacks")
	secretEnv := flags.String("secret-env", "ZEGO_CALLBACK_SECRET", "environment variable holding the secret")
	out := flags.String("out", "bodies.txt", "output file")
	_ = flags.Parse(args)
	secret := os.Getenv(*secretEnv)
	if secret == "" {
		log.Fatalf("%s is empty", *secretEnv)
	}
	file, err := os.Create(*out)
	if err != nil {
		log.Fatal(err)
	}
	w := bufio.NewWriterSize(file, 1<<20)
	ts := strconv.FormatInt(time.Now().Unix(), 10)
	// Runs signed in the same second must not share a nonce: that would be
	// the same signature on another task, a replay.
	run := strconv.FormatInt(time.Now().UnixNano(), 36)
	for i := range *n {
		nonce := run + "_" + strconv.Itoa(i)
		fmt.Fprintf(w, `{"appid":"1234567890","event":"compose","replay_url":"https://vod.example.com/43b7b075vodtranscq1500030200/93172bfa1397757897438985100/dt6.mp4","task_id":"1400341231-EditMedia-%s-%d","file_id":"1397757897438985100","code":"0","message":"SUCCESS","timestamp":"%s","nonce":"%s","signature":"%s"}`+"\n",
			run, i, ts, nonce, verify.Sign(secret, ts, nonce))
	}
	if err := w.Flush(); err != nil {
		log.Fatal(err)
	}
	if err := file.Close(); err != nil {
		log.Fatal(err)
	}
}
