package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"mime"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/task"
)

var (
	errNotJSON    = failure.New(failure.Unsupported, "Request body must be JSON (send Content-Type: application/json)")
	errMalformed  = failure.New(failure.Invalid, "Malformed JSON in request body")
	errNotAnObj   = failure.New(failure.Invalid, "Request body must be a JSON object")
	errBadUnicode = failure.New(failure.Invalid, "Request body must be valid UTF-8")
)

// decodeJSON reads a request body into dst, a struct of *string fields.
// An empty body is an empty object, as Express's body parser treats it.
// Values of the wrong type, operator objects such as {"$gt": ""} among
// them, are refused with a message naming the field; unknown fields are
// ignored and so can never reach a store.
func decodeJSON(contentType string, body []byte, dst any) error {
	if len(body) == 0 {
		return nil
	}
	if !isJSON(contentType) {
		return errNotJSON
	}
	if !utf8.Valid(body) {
		return errBadUnicode
	}
	err := json.Unmarshal(body, dst)
	var typeErr *json.UnmarshalTypeError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &typeErr) && typeErr.Field == "":
		return errNotAnObj
	case errors.As(err, &typeErr):
		return failure.Invalidf("%s must be a string", typeErr.Field)
	default:
		return errMalformed
	}
}

func isJSON(contentType string) bool {
	mt, _, err := mime.ParseMediaType(contentType)
	if err != nil {
		return false
	}
	return mt == "application/json" || strings.HasPrefix(mt, "application/") && strings.HasSuffix(mt, "+json")
}

// listQuery is a parsed GET /api/tasks query.
type listQuery struct {
	filter task.Filter
	paged  bool // page or limit was given: answer with pagination
	page   int
}

// DefaultPageSize is the page size when page is given without limit.
const DefaultPageSize = 10

// parseListQuery reads search, status, page and limit from a raw query
// string. Each may appear once, as a plain value: bracketed keys
// (status[$ne]=x), which qs-style parsers turn into operator objects, are
// refused rather than ignored, so an injection attempt gets a clear 400.
// Unknown parameters are ignored (cache busters are common).
func parseListQuery(raw string, maxPage int) (listQuery, error) {
	values, err := url.ParseQuery(raw)
	if err != nil {
		return listQuery{}, failure.New(failure.Invalid, "Malformed query string")
	}
	q := listQuery{filter: task.Filter{Limit: maxPage}, page: 1}
	var pageSet, limitSet bool
	// Sorted, so that a query with two bad parameters always gets the
	// same message.
	for _, key := range slices.Sorted(maps.Keys(values)) {
		vals := values[key]
		// The edge middleware refuses these first; this keeps the parser's
		// own promise (every value it returns is valid UTF-8) whoever calls it.
		if !utf8.ValidString(key) || slices.ContainsFunc(vals, func(v string) bool { return !utf8.ValidString(v) }) {
			return listQuery{}, errBadQuery
		}
		if strings.ContainsAny(key, "[]$") {
			return listQuery{}, failure.Invalidf("Query parameter %q is not allowed: values must be plain strings", clip(key))
		}
		switch key {
		case "search", "status", "page", "limit":
		default:
			continue
		}
		if len(vals) > 1 {
			return listQuery{}, failure.Invalidf("Query parameter %q must be given once", key)
		}
		v := strings.TrimSpace(vals[0])
		switch key {
		case "search":
			if utf8.RuneCountInString(v) > task.MaxSearchLen {
				return listQuery{}, failure.Invalidf("search must be at most %d characters", task.MaxSearchLen)
			}
			q.filter.Search = v
		case "status":
			if v == "" {
				continue
			}
			if q.filter.Status, err = task.ParseStatus(v); err != nil {
				return listQuery{}, err
			}
		case "page":
			if q.page, err = positive("page", v); err != nil {
				return listQuery{}, err
			}
			pageSet = v != ""
		case "limit":
			if q.filter.Limit, err = positive("limit", v); err != nil {
				return listQuery{}, err
			}
			limitSet = v != ""
		}
	}
	q.paged = pageSet || limitSet
	switch {
	case !q.paged:
		q.page, q.filter.Limit = 1, maxPage
	case !limitSet:
		q.filter.Limit = min(DefaultPageSize, maxPage)
	default:
		q.filter.Limit = min(q.filter.Limit, maxPage)
	}
	q.filter.Skip = (q.page - 1) * q.filter.Limit
	return q, nil
}

// maxPageNumber keeps Skip far from overflow whatever the page size.
const maxPageNumber = 1_000_000

// positive parses a page or limit; empty means "not given" (returns 1).
func positive(name, v string) (int, error) {
	if v == "" {
		return 1, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 || n > maxPageNumber {
		return 0, failure.Invalidf("%s must be a whole number from 1 to %d", name, maxPageNumber)
	}
	return n, nil
}

// clip shortens s to 40 characters for an error message.
func clip(s string) string {
	if utf8.RuneCountInString(s) > 40 {
		return fmt.Sprintf("%.40s...", s)
	}
	return s
}
