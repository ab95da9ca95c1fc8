package errorreport

// WithHTTPClient lets tests post with a client of their own (one that
// waits far longer than SendTimeout).
var WithHTTPClient = withHTTPClient
