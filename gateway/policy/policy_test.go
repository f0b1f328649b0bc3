package policy

import (
	"strings"
	"testing"
)

func newPolicy(t *testing.T) *Policy {
	t.Helper()
	p, err := New(Default())
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
	for line, want := range map[string]string{
		`db_password: "x y" other=ok spark.hadoop.fs.s3a.secret.key=AKIA1234`: `db_password: ******** other=ok spark.hadoop.fs.s3a.secret.key=********`,
		// Issue 11, item 10: values with spaces, ',' or ';' after the first word.
		`--conf spark.x.password=my secret words`:                    `--conf spark.x.password=********`,
		`spark.x.token=abc;def,ghi rest`:                             `spark.x.token=********`,
		`url=jdbc:mysql://db/x?user=a&password=hunter2`:              `url=jdbc:mysql://db/x?user=a&password=********`,
		`fs.azure.account.key.acct.blob.core.windows.net=c2VjcmV0 x`: `fs.azure.account.key.acct.blob.core.windows.net=********`,
	} {
		if got := p.RedactLine(line, nil); got != want {
			t.Errorf("got  %s\nwant %s", got, want)
		}
	}
}

// Issue 11, item 10: the defaults mask Azure account keys and passwords in
// JDBC URLs under any conf key.
func TestRedactJSONDefaultsCoverAzureAndJDBC(t *testing.T) {
	p := newPolicy(t)
	body := `{"conf":{"spark.hadoop.fs.azure.account.key.acct.dfs.core.windows.net":"c2VjcmV0a2V5","spark.app.db.url":"jdbc:postgresql://db/x?user=a&password=hunter22&ssl=true"}}`
	out, err := p.RedactJSON([]byte(body), nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, leak := range []string{"c2VjcmV0a2V5", "hunter22"} {
		if strings.Contains(string(out), leak) {
			t.Errorf("%s still holds %s", out, leak)
		}
	}
}

func TestViolationNamesKeyNotValue(t *testing.T) {
	p := newPolicy(t)
	err := p.CheckConf(map[string]string{"spark.driver.extraJavaOptions": "-DHADOOP_USER_NAME=topsecretuser"})
	if err == nil || !strings.Contains(err.Error(), "spark.driver.extraJavaOptions") || strings.Contains(err.Error(), "topsecretuser") {
		t.Errorf("violation: %v", err)
	}
}
