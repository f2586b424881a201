// podid-loadgen: a closed-loop HTTP(S) load generator for podid's benchmarks (bench/load.ts runs it).
// N keep-alive clients send the same request for D seconds; it prints one JSON line with the request count,
// errors and latency percentiles. Written in Go so that the client costs the 2-core machine far less CPU than
// the server it measures (a Node client took about as much CPU as the server, and its own GC pauses landed in p99).
package main

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

type headers []string

func (h *headers) String() string     { return strings.Join(*h, ", ") }
func (h *headers) Set(v string) error { *h = append(*h, v); return nil }

type result struct {
	Requests int     `json:"requests"`
	Errors   int     `json:"errors"`
	Seconds  float64 `json:"seconds"`
	RPS      float64 `json:"rps"`
	P50ms    float64 `json:"p50ms"`
	P99ms    float64 `json:"p99ms"`
	MaxMs    float64 `json:"maxms"`
	// The first failure, for the caller to show (status and at most 200 bytes of body).
	FirstError string `json:"firstError,omitempty"`
}

func main() {
	url := flag.String("url", "", "the URL to request")
	method := flag.String("method", "GET", "HTTP method")
	bodyFile := flag.String("body", "", "file whose content is sent as the request body")
	caFile := flag.String("cacert", "", "PEM CA bundle for an https URL")
	clients := flag.Int("c", 16, "concurrent keep-alive clients")
	seconds := flag.Float64("d", 10, "seconds to run")
	status := flag.Int("status", 200, "the status a successful reply has")
	contains := flag.String("contains", "", "a string a successful reply's body contains")
	rotateName := flag.String("rotate-header", "", "a header whose value changes per request, taken in turn from -rotate-values")
	rotateFile := flag.String("rotate-values", "", "file with one value per line for -rotate-header")
	rate := flag.Float64("rate", 0, "requests per second in all (open loop, paced); 0: as fast as the clients go")
	var hs headers
	flag.Var(&hs, "H", "a request header, 'Name: value' (repeatable)")
	flag.Parse()
	if *url == "" {
		fail("-url is required")
	}

	var body []byte
	if *bodyFile != "" {
		b, err := os.ReadFile(*bodyFile)
		if err != nil {
			fail(err.Error())
		}
		body = b
	}
	var rotate []string
	if *rotateFile != "" {
		f, err := os.Open(*rotateFile)
		if err != nil {
			fail(err.Error())
		}
		s := bufio.NewScanner(f)
		s.Buffer(make([]byte, 1<<20), 1<<20)
		for s.Scan() {
			if line := strings.TrimSpace(s.Text()); line != "" {
				rotate = append(rotate, line)
			}
		}
		f.Close()
	}
	tlsConfig := &tls.Config{}
	if *caFile != "" {
		pem, err := os.ReadFile(*caFile)
		if err != nil {
			fail(err.Error())
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			fail("no certificate in " + *caFile)
		}
		tlsConfig.RootCAs = pool
	}
	transport := &http.Transport{
		TLSClientConfig:     tlsConfig,
		MaxIdleConnsPerHost: *clients,
		MaxConnsPerHost:     *clients,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	client := &http.Client{Transport: transport, Timeout: 30 * time.Second}
	want := []byte(*contains)

	// Paced: a ticket per request at the given rate; a client waits for one before sending.
	var tickets chan struct{}
	if *rate > 0 {
		tickets = make(chan struct{}, *clients)
		go func() {
			interval := time.Duration(float64(time.Second) / *rate)
			for t := time.NewTicker(interval); ; <-t.C {
				tickets <- struct{}{}
			}
		}()
	}
	var next atomic.Uint64
	var mu sync.Mutex
	var latencies []time.Duration
	var errors int
	var firstError string
	start := time.Now()
	deadline := start.Add(time.Duration(*seconds * float64(time.Second)))
	var wg sync.WaitGroup
	for range *clients {
		wg.Add(1)
		go func() {
			defer wg.Done()
			own := make([]time.Duration, 0, 1<<16)
			ownErrors := 0
			ownFirst := ""
			for time.Now().Before(deadline) {
				if tickets != nil {
					select {
					case <-tickets:
					case <-time.After(time.Until(deadline)):
						continue
					}
				}
				req, err := http.NewRequest(*method, *url, bytes.NewReader(body))
				if err != nil {
					fail(err.Error())
				}
				if body != nil {
					req.Header.Set("Content-Type", "application/json")
				}
				for _, h := range hs {
					name, value, _ := strings.Cut(h, ":")
					req.Header.Set(strings.TrimSpace(name), strings.TrimSpace(value))
				}
				if len(rotate) > 0 {
					req.Header.Set(*rotateName, rotate[next.Add(1)%uint64(len(rotate))])
				}
				t0 := time.Now()
				res, err := client.Do(req)
				var reply []byte
				if err == nil {
					reply, err = io.ReadAll(res.Body)
					res.Body.Close()
				}
				own = append(own, time.Since(t0))
				bad := ""
				switch {
				case err != nil:
					bad = err.Error()
				case res.StatusCode != *status:
					bad = fmt.Sprintf("status %d: %.200s", res.StatusCode, reply)
				case len(want) > 0 && !bytes.Contains(reply, want):
					bad = fmt.Sprintf("status %d without %q: %.200s", res.StatusCode, *contains, reply)
				}
				if bad != "" {
					ownErrors++
					if ownFirst == "" {
						ownFirst = bad
					}
				}
			}
			mu.Lock()
			latencies = append(latencies, own...)
			errors += ownErrors
			if firstError == "" {
				firstError = ownFirst
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	elapsed := time.Since(start).Seconds()
	slices.Sort(latencies)
	pct := func(p float64) float64 {
		if len(latencies) == 0 {
			return 0
		}
		i := min(len(latencies)-1, int(p/100*float64(len(latencies))))
		return float64(latencies[i].Microseconds()) / 1000
	}
	r := result{Requests: len(latencies), Errors: errors, Seconds: elapsed, RPS: float64(len(latencies)) / elapsed, P50ms: pct(50), P99ms: pct(99), FirstError: firstError}
	if len(latencies) > 0 {
		r.MaxMs = float64(latencies[len(latencies)-1].Microseconds()) / 1000
	}
	json.NewEncoder(os.Stdout).Encode(r)
}

func fail(msg string) {
	fmt.Fprintln(os.Stderr, "podid-loadgen:", msg)
	os.Exit(2)
}
