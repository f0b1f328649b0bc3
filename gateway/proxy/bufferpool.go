package proxy

import "sync"

// bufferPool lends ReverseProxy its copy buffers. Without one it allocates
// 32 KiB per answer, and on Sparkmagic's steady polling that garbage, not
// the gateway's own work, is what costs the most.
type bufferPool struct{ pool sync.Pool }

const copyBufferSize = 32 << 10

func newBufferPool() *bufferPool {
	return &bufferPool{pool: sync.Pool{New: func() any {
		b := make([]byte, copyBufferSize)
		return &b
	}}}
}

// Get implements httputil.BufferPool.
func (p *bufferPool) Get() []byte { return *p.pool.Get().(*[]byte) }

// Put implements httputil.BufferPool.
func (p *bufferPool) Put(b []byte) {
	if cap(b) >= copyBufferSize {
		b = b[:copyBufferSize]
		p.pool.Put(&b)
	}
}
