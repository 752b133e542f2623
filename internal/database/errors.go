package database

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
)

// ErrUnavailable is wrapped into errors caused by the database not answering
// or dropping the connection. Whatever was asked did not happen, or its
// outcome is unknown; callers must fail closed.
var ErrUnavailable = errors.New("database unavailable")

// ErrContended is wrapped into errors caused by other transactions: a row
// lock held past lock_timeout, a deadlock, a serialization failure. Nothing
// was changed, and the same request may well succeed a moment later.
var ErrContended = errors.New("database contended")

// WrapError wraps err with what was being done, marking it with
// ErrUnavailable or ErrContended when it is one of those transient failures.
func WrapError(what string, err error) error {
	switch {
	case IsUnavailable(err):
		return fmt.Errorf("%s: %w: %w", what, ErrUnavailable, err)
	case IsContended(err):
		return fmt.Errorf("%s: %w: %w", what, ErrContended, err)
	}
	return fmt.Errorf("%s: %w", what, err)
}

// IsUnavailable reports whether err means the database could not be
// reached, dropped the connection, ran out of connections or time, or is
// not (yet) the writable primary: a failure of the connection rather than
// of the statement. It decides by pgx's own signals and SQLSTATEs, never by
// an error's text.
func IsUnavailable(err error) bool {
	if err == nil {
		return false
	}
	var connectErr *pgconn.ConnectError
	if errors.Is(err, ErrUnavailable) || errors.As(err, &connectErr) {
		return true
	}
	// The server's own answer decides when there is one: a connection
	// that delivered a constraint violation is not unavailable.
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) {
		return unavailableCode(pgErr.Code)
	}
	var netErr net.Error
	return errors.Is(err, pgconn.ErrConnClosed) ||
		pgconn.SafeToRetry(err) || pgconn.Timeout(err) ||
		errors.Is(err, context.DeadlineExceeded) ||
		errors.As(err, &netErr) ||
		errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF)
}

// unavailableCode reports whether a SQLSTATE is about the server or the
// session rather than the statement:
//
//   - class 08, connection exceptions;
//   - class 57, operator intervention: a cancelled statement (57014, also
//     statement_timeout), the server shutting down or terminating the
//     session (57P01-57P05);
//   - class 53, insufficient resources, 53300 too_many_connections among
//     them;
//   - 25006 read_only_sql_transaction: a standby answering during a
//     failover.
func unavailableCode(code string) bool {
	switch {
	case strings.HasPrefix(code, "08"), strings.HasPrefix(code, "57"), strings.HasPrefix(code, "53"):
		return true
	}
	return code == "25006"
}

// SQLSTATEs of contention.
const (
	codeLockNotAvailable     = "55P03"
	codeDeadlockDetected     = "40P01"
	codeSerializationFailure = "40001"
)

// IsContended reports whether err is the database refusing a statement
// because of other transactions: lock_not_available (a lock_timeout),
// deadlock_detected or serialization_failure. Nothing was changed.
func IsContended(err error) bool {
	if errors.Is(err, ErrContended) {
		return true
	}
	var pgErr *pgconn.PgError
	if !errors.As(err, &pgErr) {
		return false
	}
	switch pgErr.Code {
	case codeLockNotAvailable, codeDeadlockDetected, codeSerializationFailure:
		return true
	}
	return false
}

// IsBadText reports whether err is PostgreSQL refusing a string it cannot
// store (a NUL, invalid UTF-8: 22021, or a character the encoding lacks:
// 22P05). The request was malformed, not the server: internal/pgtext is
// meant to stop such strings before they get here.
func IsBadText(err error) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && (pgErr.Code == "22021" || pgErr.Code == "22P05")
}

// IsForeignKeyViolation reports whether err is PostgreSQL refusing a row
// whose parent is missing (23503 foreign_key_violation): for checkoutd, a
// row of a shop that does not exist.
func IsForeignKeyViolation(err error) bool {
	return hasCode(err, "23503")
}

// IsCheckViolation reports whether err is a CHECK constraint refusing a row
// (23514 check_violation): the schema's own invariants standing behind the
// arithmetic of a statement.
func IsCheckViolation(err error) bool {
	return hasCode(err, "23514")
}

// IsUndefinedTableOrColumn reports whether err is a statement naming a
// table (42P01 undefined_table) or column (42703 undefined_column) the
// schema lacks: a schema that has not migrated that far.
func IsUndefinedTableOrColumn(err error) bool {
	return hasCode(err, "42P01") || hasCode(err, "42703")
}

func hasCode(err error, code string) bool {
	var pgErr *pgconn.PgError
	return errors.As(err, &pgErr) && pgErr.Code == code
}
