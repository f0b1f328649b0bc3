package proxy

// SetMaxRewrite lowers the answer size limit for a test; call the returned
// func to restore it.
func SetMaxRewrite(n int64) (restore func()) {
	old := maxRewrite
	maxRewrite = n
	return func() { maxRewrite = old }
}
