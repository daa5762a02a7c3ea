package caddymodule

import (
	"errors"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/zegoedge/caddy-zego-callback/verify"
)

// handlerMetrics are the handler's Prometheus collectors, registered on
// Caddy's registry so they appear wherever Caddy serves its metrics.
type handlerMetrics struct {
	requests        *prometheus.CounterVec
	upstream        *prometheus.CounterVec
	verifyDuration  prometheus.Histogram
	deliverDuration *prometheus.HistogramVec
	// deliverDuration's two series, looked up once.
	deliverZego, deliverSpool prometheus.Observer

	// The spool's.
	spooled         prometheus.Counter
	deadLetters     prometheus.Counter
	spoolAttempts   *prometheus.CounterVec
	spoolWaiting    prometheus.Gauge
	spoolDead       prometheus.Gauge
	spoolUnreadable prometheus.Gauge
	spoolOldest     prometheus.Gauge
	spoolLastPass   prometheus.Gauge
}

// Sources of a delivery attempt, for the metrics: ZEGO's own request, or a
// redelivery by the spool, so that an outage the spool absorbs can be told
// from one that loses callbacks.
const (
	sourceZego  = "zego"
	sourceSpool = "spool"
)

// unknownEvent labels callbacks whose event is not configured, so that no
// attacker-chosen value becomes a label.
const unknownEvent = "unknown"

// otherApp labels callbacks from apps outside the AppID allowlist (or all
// of them when there is none), so the label set stays bounded.
const otherApp = "other"

func newHandlerMetrics(registry prometheus.Registerer) (*handlerMetrics, error) {
	const namespace, subsystem = "caddy", "zego_callback"
	m := &handlerMetrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "requests_total",
			Help: "Callbacks received from ZEGO, by product (the route's), event, outcome (forwarded, refused, spooled, upstream_failed, duplicate, or the rejection's reason code) and app_id (an allowlisted AppID, or other).",
		}, []string{"product", "event", "outcome", "app_id"}),
		upstream: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "upstream_responses_total",
			Help: "Answers of the deliver chain, by product, event, status class (2xx, 3xx, 4xx, 5xx, error) and source (zego: ZEGO's request; spool: a redelivery).",
		}, []string{"product", "event", "code_class", "source"}),
		verifyDuration: prometheus.NewHistogram(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "verify_duration_seconds",
			Help:    "Time the handler spends on a callback, excluding the upstream.",
			Buckets: prometheus.ExponentialBuckets(1e-6, 4, 10), // 1µs to 0.26s
		}),
		deliverDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "deliver_duration_seconds",
			Help:    "Time of one attempt through the deliver block, by source (zego: ZEGO's request; spool: a redelivery).",
			Buckets: prometheus.ExponentialBuckets(0.001, 2.5, 12), // 1ms to 24s, past the default deliver_timeout
		}, []string{"source"}),
		spooled: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "spooled_total",
			Help: "Callbacks the upstream did not accept, stored in the spool and answered 202.",
		}),
		deadLetters: prometheus.NewCounter(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "spool_dead_letters_total",
			Help: "Spooled callbacks given up after the spool's max_age.",
		}),
		spoolAttempts: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "spool_redeliveries_total",
			Help: "Redelivery attempts of spooled callbacks, by result: forwarded, refused (by the backend, on purpose), duplicate (delivered meanwhile by ZEGO's own retry) or failed.",
		}, []string{"result"}),
		spoolWaiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "spool_waiting",
			Help: "Spooled callbacks waiting for redelivery.",
		}),
		spoolDead: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "spool_dead",
			Help: "Dead letters kept in the spool.",
		}),
		spoolUnreadable: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "spool_unreadable",
			Help: "Files in the spool that are not valid items (truncated, corrupt or hand-made): never delivered; ZEGO's retry of one replaces it.",
		}),
		spoolOldest: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "spool_oldest_waiting_seconds",
			Help: "Age of the oldest waiting spooled callback since it first arrived; 0 when none waits.",
		}),
		spoolLastPass: prometheus.NewGauge(prometheus.GaugeOpts{
			Namespace: namespace, Subsystem: subsystem, Name: "spool_last_pass_timestamp_seconds",
			Help: "When the spool's worker last finished a pass over the spool (unix seconds); passes run about every second, so an old value means a stuck worker.",
		}),
	}
	var err error
	if m.requests, err = register(registry, m.requests); err != nil {
		return nil, err
	}
	if m.upstream, err = register(registry, m.upstream); err != nil {
		return nil, err
	}
	if m.verifyDuration, err = register(registry, m.verifyDuration); err != nil {
		return nil, err
	}
	if m.deliverDuration, err = register(registry, m.deliverDuration); err != nil {
		return nil, err
	}
	m.deliverZego, m.deliverSpool = m.deliverDuration.WithLabelValues(sourceZego), m.deliverDuration.WithLabelValues(sourceSpool)
	for _, c := range []*prometheus.Counter{&m.spooled, &m.deadLetters} {
		if *c, err = register(registry, *c); err != nil {
			return nil, err
		}
	}
	if m.spoolAttempts, err = register(registry, m.spoolAttempts); err != nil {
		return nil, err
	}
	for _, g := range []*prometheus.Gauge{&m.spoolWaiting, &m.spoolDead, &m.spoolUnreadable, &m.spoolOldest, &m.spoolLastPass} {
		if *g, err = register(registry, *g); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// startSeries creates at zero the series the alerts take a rate of:
// rate() and increase() cannot see a counter's first increment when the
// series appears with it, so the first lost callback would go unseen.
func (m *handlerMetrics) startSeries(product string, events, apps []string) {
	for _, event := range events {
		for _, app := range apps {
			for _, outcome := range []string{outcomeForwarded, outcomeRefused, outcomeSpooled, outcomeUpstreamFailed, outcomeDuplicate, verify.ErrBadSignature.Reason()} {
				m.requests.WithLabelValues(product, event, outcome, app)
			}
		}
	}
	for _, result := range []string{outcomeForwarded, outcomeRefused, outcomeDuplicate, "failed"} {
		m.spoolAttempts.WithLabelValues(result)
	}
}

// register adds c to the registry, or returns the collector already there:
// several handlers in one config share one registry.
func register[C prometheus.Collector](registry prometheus.Registerer, c C) (C, error) {
	err := registry.Register(c)
	if are, ok := errors.AsType[prometheus.AlreadyRegisteredError](err); ok {
		if existing, ok := are.ExistingCollector.(C); ok {
			return existing, nil
		}
	}
	return c, err
}

// codeClass names an upstream answer for the upstream_responses_total label.
func codeClass(status int, err error) string {
	switch {
	case err != nil || status == 0:
		return "error"
	case status < 300:
		return "2xx"
	case status < 400:
		return "3xx"
	case status < 500:
		return "4xx"
	}
	return "5xx"
}
