package policy

import (
	"reflect"
	"strings"
	"testing"
)

func TestSparkOptionsSplitAsSparkDoes(t *testing.T) {
	cases := []struct {
		in   string
		want []string
		ok   bool
	}{
		{`-Da=1 -Db=2`, []string{"-Da=1", "-Db=2"}, true},
		{`-DHADOOP_USER_"NAME"=hdfs`, []string{"-DHADOOP_USER_NAME=hdfs"}, true},
		{`'-Dx=a b'  "-Dy=\"q\""`, []string{"-Dx=a b", `-Dy="q"`}, true},
		{`-Dx=\ y`, []string{"-Dx= y"}, true},
		{`'a\b'`, []string{`a\b`}, true},
		{`""`, []string{""}, true},
		{"-Da\u00a0-Db", []string{"-Da\u00a0-Db"}, true},
		{"-Da\u2003-Db", []string{"-Da", "-Db"}, true},
		{`"open`, nil, false},
		{`trailing\`, nil, false},
	}
	for _, c := range cases {
		got, ok := sparkOptions(c.in)
		if ok != c.ok || (ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("sparkOptions(%q) = %q, %v; want %q, %v", c.in, got, ok, c.want, c.ok)
		}
	}
}

// Issue 11, item 6: identity options are refused as Spark will parse them,
// in every conf value (any may become JVM options or an environment).
func TestQuotedIdentityOptionsRefused(t *testing.T) {
	p, err := New(Default())
	if err != nil {
		t.Fatal(err)
	}
	for key, value := range map[string]string{
		"spark.driver.extraJavaOptions":             `-DHADOOP_USER_"NAME"=hdfs`,
		"spark.executor.extraJavaOptions":           `-D'HADOOP_USER_NAME'=hdfs`,
		"spark.yarn.am.extraJavaOptions":            `-DHADOOP_USER_\NAME=hdfs`,
		"spark.driver.defaultJavaOptions":           `-Dx=1 "-DSPARK_""USER=hdfs"`,
		"spark.yarn.appMasterEnv.JAVA_TOOL_OPTIONS": `-D"user.name"=hdfs`,
		"spark.executorEnv.SPARK_JAVA_OPTS":         `-DHADOOP_PROXY_"USER"=hdfs`,
	} {
		if err := p.CheckConf(map[string]string{key: value}); err == nil {
			t.Errorf("%s = %s passed", key, value)
		}
	}
	if err := p.CheckConf(map[string]string{"spark.driver.extraJavaOptions": `-Dapp.name="my job" -Xss4m`}); err != nil {
		t.Errorf("ordinary options refused: %v", err)
	}
}

// Livy 0.9's own refused keys are refused by the gateway for any Livy.
func TestLivyRefusedKeysRefused(t *testing.T) {
	p, err := New(Default())
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"spark.submit.deployMode", "SPARK.SUBMIT.DEPLOYMODE", "spark.submit.proxyUser.allowCustomClasspathInClusterMode"} {
		if err := p.CheckConf(map[string]string{k: "true"}); err == nil {
			t.Errorf("%s passed", k)
		}
	}
}

// FuzzSparkOptions checks that no value whose Spark reading sets an identity
// passes the policy, and that plain options survive a split and join.
func FuzzSparkOptions(f *testing.F) {
	for _, s := range []string{`-DHADOOP_USER_"NAME"=x`, `'a b' "c\"d" e\ f`, `-Duser.name=x`, `"`, `\`} {
		f.Add(s)
	}
	p, err := New(Default())
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, v string) {
		opts, ok := sparkOptions(v)
		if !ok {
			return
		}
		for _, o := range opts {
			u := strings.ToUpper(o)
			for _, name := range identityNames {
				if strings.Contains(u, name) && p.CheckConf(map[string]string{"spark.driver.extraJavaOptions": v}) == nil {
					t.Fatalf("%q passed; Spark reads option %q", v, o)
				}
			}
			if javaUserProperty.MatchString(o) && p.CheckConf(map[string]string{"spark.driver.extraJavaOptions": v}) == nil {
				t.Fatalf("%q passed; Spark reads option %q", v, o)
			}
			if !strings.ContainsAny(o, "\"'\\") && !strings.ContainsFunc(o, javaSpace) && o != "" {
				again, ok := sparkOptions(o)
				if !ok || len(again) != 1 || again[0] != o {
					t.Fatalf("option %q re-splits as %q", o, again)
				}
			}
		}
	})
}
