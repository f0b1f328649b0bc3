package policy

import (
	"fmt"
	"strings"
	"testing"
)

func TestCleanBodiesStayWithinTheirBudget(t *testing.T) {
	var c cleanBodies
	body := func(i int) []byte { return []byte(fmt.Sprintf(`{"id":%d,"log":[%q]}`, i, strings.Repeat("x", 4000))) }
	for i := 0; i < 2*cleanBodiesBudget/4000; i++ {
		c.add(body(i))
		if c.bytes > cleanBodiesBudget {
			t.Fatalf("after %d bodies the cache holds %d bytes, over its budget %d", i+1, c.bytes, cleanBodiesBudget)
		}
	}
	last := 2*cleanBodiesBudget/4000 - 1
	if !c.has(body(last)) {
		t.Fatal("the body just added is not remembered")
	}
	c.add(make([]byte, cleanBodyMaxBytes+1))
	if c.has(make([]byte, cleanBodyMaxBytes+1)) {
		t.Fatal("a body over cleanBodyMaxBytes was kept")
	}
}
