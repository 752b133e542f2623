package alerts

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"io"
	"net"
	"strconv"
	"strings"
	"syscall"
)

// The classes of a failed delivery attempt: what a shop sees of it
// (DeliveryState.LastError). The attempt's detail (addresses, resolvers, the
// receiver's answer) belongs to whoever runs the channels and goes to the
// log only; the database stores the class alone, and its
// alert_deliveries_error_class_valid constraint refuses anything else.
const (
	// ErrorRefused: the receiver refused the connection.
	ErrorRefused = "refused"
	// ErrorTimeout: no answer within the delivery timeout.
	ErrorTimeout = "timeout"
	// ErrorDNS: the receiver's host name did not resolve.
	ErrorDNS = "dns"
	// ErrorTLS: the TLS handshake or the receiver's certificate failed.
	ErrorTLS = "tls"
	// ErrorUnreachable: no route to the receiver's network or host.
	ErrorUnreachable = "unreachable"
	// ErrorConnectionLost: the connection closed or reset before a whole
	// answer arrived.
	ErrorConnectionLost = "connection_lost"
	// ErrorInvalidResponse: the receiver's answer was not HTTP.
	ErrorInvalidResponse = "invalid_response"
	// ErrorNotConfigured: the channel was turned off (or given an unusable
	// URL) after the alert was raised.
	ErrorNotConfigured = "not_configured"
	// ErrorInterrupted: the attempt was cut short by its process stopping.
	ErrorInterrupted = "interrupted"
	// ErrorOther: any failure not in another class.
	ErrorOther = "error"
)

// httpStatusClass is the class of an answer other than 2xx: "http_" and its
// status, such as http_500 or http_429 (a 3xx too: redirects are not
// followed).
func httpStatusClass(status int) string {
	return "http_" + strconv.Itoa(status)
}

// DeliveryError is a failed delivery attempt. Its message is the class
// alone, so that it can be stored anywhere (River keeps job errors); Err
// holds the detail, for the log.
type DeliveryError struct {
	// Class is one of the Error* classes or http_<status>.
	Class string
	// Err is what happened, in full; it may name the receiver's address and
	// quote its answer, so it is never shown to a shop.
	Err error
}

func (e *DeliveryError) Error() string { return "alert delivery failed: " + e.Class }

// Unwrap returns the detail.
func (e *DeliveryError) Unwrap() error { return e.Err }

// classify names the class of a failed request. Typed errors come first:
// a DNS failure carries the resolver's own dial error, which must not read
// as the receiver refusing.
func classify(err error) string {
	var (
		dnsErr     *net.DNSError
		netErr     net.Error
		certErr    *tls.CertificateVerificationError
		recordErr  tls.RecordHeaderError
		alertErr   tls.AlertError
		hostErr    x509.HostnameError
		unknownCA  x509.UnknownAuthorityError
		invalidErr x509.CertificateInvalidError
	)
	switch {
	case errors.Is(err, errChannelOff):
		return ErrorNotConfigured
	case errors.As(err, &dnsErr):
		return ErrorDNS
	case errors.Is(err, context.Canceled):
		return ErrorInterrupted
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &netErr) && netErr.Timeout():
		return ErrorTimeout
	case errors.Is(err, syscall.ECONNREFUSED):
		return ErrorRefused
	case errors.Is(err, syscall.EHOSTUNREACH), errors.Is(err, syscall.ENETUNREACH):
		return ErrorUnreachable
	case errors.As(err, &certErr), errors.As(err, &recordErr), errors.As(err, &alertErr),
		errors.As(err, &hostErr), errors.As(err, &unknownCA), errors.As(err, &invalidErr):
		return ErrorTLS
	case errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return ErrorConnectionLost
	}
	// net/http reports these two with untyped errors of fixed wording.
	msg := err.Error()
	switch {
	case strings.Contains(msg, "server gave HTTP response to HTTPS client"):
		return ErrorTLS
	case strings.Contains(msg, "malformed HTTP"):
		return ErrorInvalidResponse
	}
	return ErrorOther
}
