package proxy

import (
	"testing"
	"time"
)

// livy.max_connections caps the connections to Livy and keeps as many when
// idle, so a burst of clients queues for a connection instead of dialling
// one per call and closing it after the answer.
func TestTransportCapsConnectionsToLivy(t *testing.T) {
	tr := transport(time.Minute, 7)
	if tr.MaxConnsPerHost != 7 || tr.MaxIdleConnsPerHost != 7 || tr.ResponseHeaderTimeout != time.Minute {
		t.Fatalf("transport: max %d, idle %d, header timeout %v; want 7, 7, 1m",
			tr.MaxConnsPerHost, tr.MaxIdleConnsPerHost, tr.ResponseHeaderTimeout)
	}
	c := Default()
	c.MaxConnections = 0
	if c.Validate() == nil {
		t.Fatal("livy.max_connections 0 was accepted")
	}
}
