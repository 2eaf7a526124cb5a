package manager

import (
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/shapesync/shapesync/replication/pgwire"
)

// Policy paces the retries (ARCHITECTURE §1.4, error classes).
type Policy struct {
	// RetryMin, RetryMax and Jitter: retryable failures wait RetryMin
	// doubled per consecutive failure up to RetryMax, ±Jitter (a fraction).
	// Defaults 1 s, 10 s, 0.2.
	RetryMin, RetryMax time.Duration
	Jitter             float64
	// SlowMin and SlowMax bound the random wait after an operator-needed
	// or replication-impossible failure (A9: at most 2 attempts a minute).
	// Defaults 30 s and 60 s.
	SlowMin, SlowMax time.Duration
	// StableAfter is how long the stream must have run for the backoff to
	// start from RetryMin again; default 5 s.
	StableAfter time.Duration
	// Random is the jitter source, a sample from [0,1); default
	// math/rand/v2.Float64.
	Random func() float64
}

func (p Policy) withDefaults() Policy {
	if p.RetryMin <= 0 {
		p.RetryMin = time.Second
	}
	if p.RetryMax < p.RetryMin {
		p.RetryMax = max(10*time.Second, p.RetryMin)
	}
	if p.Jitter <= 0 || p.Jitter > 1 {
		p.Jitter = 0.2
	}
	if p.SlowMin <= 0 {
		p.SlowMin = 30 * time.Second
	}
	if p.SlowMax < p.SlowMin {
		p.SlowMax = max(60*time.Second, p.SlowMin)
	}
	if p.StableAfter <= 0 {
		p.StableAfter = 5 * time.Second
	}
	if p.Random == nil {
		p.Random = rand.Float64
	}
	return p
}

// resetBackoffIfStable starts the backoff over once the stream has been
// live for StableAfter.
func (m *Machine) resetBackoffIfStable() {
	if !m.liveSince.IsZero() && m.now.Sub(m.liveSince) >= m.policy.StableAfter {
		m.attempt = 0
	}
}

// delay is the wait before retrying after a failure of class c.
func (m *Machine) delay(c pgwire.Class) time.Duration {
	p := m.policy
	switch c {
	case pgwire.OperatorNeeded, pgwire.ReplicationImpossible:
		return p.SlowMin + time.Duration(p.Random()*float64(p.SlowMax-p.SlowMin))
	}
	d := p.RetryMin
	for i := 0; i < m.attempt && d < p.RetryMax; i++ {
		d *= 2
	}
	d = min(d, p.RetryMax)
	m.attempt++
	return time.Duration(float64(d) * (1 + p.Jitter*(2*p.Random()-1)))
}

// diagnose classifies a child's failure reason (a panic value, usually an
// error) or a setup error.
func diagnose(reason any) pgwire.Diagnosis {
	switch r := reason.(type) {
	case nil:
		return pgwire.Diagnosis{Class: pgwire.Retryable, Reason: "stopped without an error"}
	case error:
		return pgwire.Diagnose(r)
	}
	return pgwire.Diagnosis{Class: pgwire.Retryable, Reason: fmt.Sprint(reason)}
}
