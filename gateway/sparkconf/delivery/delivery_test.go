package delivery

import "testing"

func TestModes(t *testing.T) {
	for _, m := range []Mode{"", None, Conf, HDFSFile} {
		if err := m.Validate(); err != nil {
			t.Errorf("%q: %v", m, err)
		}
		if m.Delivers() != (m == Conf || m == HDFSFile) {
			t.Errorf("%q delivers: %v", m, m.Delivers())
		}
	}
	if err := Mode("hdfs").Validate(); err == nil || err.Error() != `must be none, conf or hdfs-file, not "hdfs"` {
		t.Errorf("unknown mode: %v", err)
	}
}
