package policy

import (
	"strings"
	"testing"

	"github.com/livygate/livygate/gateway/config"
)

func newPolicy(t *testing.T) *Policy {
	t.Helper()
	p, err := New(config.Default().Policy)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestRedactJSONMasksEscapedForms(t *testing.T) {
	p := newPolicy(t)
	cases := []struct {
		name, body, secret, leak string
	}{
		{"quoted secret in an echo", `{"log":["value: ab\"cd!"]}`, `ab"cd!`, `ab\"cd!`},
		{"escaped key", `{"conf":{"spark.pass\u0077ord":"hunter22"}}`, "", "hunter22"},
		{"plain key", `{"conf":{"spark.ssl.keyPassword":"hunter22"}}`, "", "hunter22"},
		{"log assignment", `{"log":["--conf spark.x.token=abcd1234"]}`, "", "abcd1234"},
	}
	for _, c := range cases {
		out, err := p.RedactJSON([]byte(c.body), []string{c.secret})
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if strings.Contains(string(out), c.leak) {
			t.Errorf("%s: %s still holds %s", c.name, out, c.leak)
		}
	}
}

func TestRedactJSONLeavesCleanBodiesAlone(t *testing.T) {
	p := newPolicy(t)
	body := `{"id":0,"state":"idle","conf":{"spark.app.name":"x"},"log":["a=b"]}`
	out, err := p.RedactJSON([]byte(body), []string{"zzzzzz"})
	if err != nil || string(out) != body {
		t.Errorf("clean body changed: %s %v", out, err)
	}
	if _, err := p.RedactJSON([]byte(`{"id":`), nil); err == nil {
		t.Error("broken JSON accepted")
	}
}

func TestRedactLine(t *testing.T) {
	p := newPolicy(t)
	got := p.RedactLine(`spark.hadoop.fs.s3a.secret.key=AKIA1234 db_password: "x y" other=ok`, nil)
	want := `spark.hadoop.fs.s3a.secret.key=******** db_password: ******** other=ok`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestViolationNamesKeyNotValue(t *testing.T) {
	p := newPolicy(t)
	err := p.CheckConf(map[string]string{"spark.driver.extraJavaOptions": "-DHADOOP_USER_NAME=topsecretuser"})
	if err == nil || !strings.Contains(err.Error(), "spark.driver.extraJavaOptions") || strings.Contains(err.Error(), "topsecretuser") {
		t.Errorf("violation: %v", err)
	}
}
