package jwt

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"crypto/sha512"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"strings"
	"time"
)

// token is a compact JWS split into its parts and decoded just enough to
// forge variants of it: the checks never verify anything with it.
type token struct {
	headerSeg, payloadSeg, sigSeg string
	header                        map[string]any
	claims                        map[string]any // numbers as json.Number
}

var errNotJWT = errors.New("not a compact JWT (header.payload.signature)")

// parseToken splits and decodes raw.
func parseToken(raw string) (*token, error) {
	parts := strings.Split(raw, ".")
	if len(parts) != 3 {
		return nil, errNotJWT
	}
	tk := &token{headerSeg: parts[0], payloadSeg: parts[1], sigSeg: parts[2]}
	if err := decodeSeg(parts[0], &tk.header); err != nil {
		return nil, fmt.Errorf("header: %w", err)
	}
	if err := decodeSeg(parts[1], &tk.claims); err != nil {
		return nil, fmt.Errorf("payload: %w", err)
	}
	return tk, nil
}

func decodeSeg(seg string, v *map[string]any) error {
	b, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(seg, "="))
	if err != nil {
		return err
	}
	d := json.NewDecoder(bytes.NewReader(b))
	d.UseNumber() // exp and iat stay exact when a payload is re-encoded
	return d.Decode(v)
}

// encodeSeg is v as a JWS segment: base64url of its JSON, unpadded.
func encodeSeg(v any) string {
	b, _ := json.Marshal(v) // maps of JSON values always marshal
	return base64.RawURLEncoding.EncodeToString(b)
}

// alg is the token's "alg" header, "" when absent or not a string.
func (tk *token) alg() string {
	s, _ := tk.header["alg"].(string)
	return s
}

// headerWith is a copy of the header with alg set.
func (tk *token) headerWith(alg string) map[string]any {
	h := make(map[string]any, len(tk.header))
	for k, v := range tk.header {
		h[k] = v
	}
	h["alg"] = alg
	return h
}

// claimsCopy is a copy of the claims to edit.
func (tk *token) claimsCopy() map[string]any {
	c := make(map[string]any, len(tk.claims))
	for k, v := range tk.claims {
		c[k] = v
	}
	return c
}

// numericClaim reads a NumericDate claim ("exp", "iat").
func (tk *token) numericClaim(name string) (time.Time, bool) {
	n, ok := tk.claims[name].(json.Number)
	if !ok {
		return time.Time{}, false
	}
	f, err := n.Float64()
	if err != nil {
		return time.Time{}, false
	}
	return time.Unix(int64(f), 0), true
}

// hashes are the HMAC algorithms a secret can be cracked or forged for.
var hashes = map[string]func() hash.Hash{
	"HS256": sha256.New,
	"HS384": sha512.New384,
	"HS512": sha512.New,
}

// sign is the base64url HMAC of input under alg; alg must be in hashes.
func sign(alg string, key []byte, input string) string {
	m := hmac.New(hashes[alg], key)
	m.Write([]byte(input))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// forge assembles a token from a header, claims and a key: unsigned when
// alg is not an HMAC one (alg:none), signed with key otherwise.
func forge(header, claims map[string]any, key []byte) string {
	input := encodeSeg(header) + "." + encodeSeg(claims)
	alg, _ := header["alg"].(string)
	if _, ok := hashes[alg]; !ok {
		return input + "."
	}
	return input + "." + sign(alg, key, input)
}

// verifies reports whether key signs tk under its own HMAC algorithm.
func (tk *token) verifies(key []byte) bool {
	h, ok := hashes[tk.alg()]
	if !ok {
		return false
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(tk.sigSeg, "="))
	if err != nil {
		return false
	}
	m := hmac.New(h, key)
	m.Write([]byte(tk.headerSeg + "." + tk.payloadSeg))
	return hmac.Equal(m.Sum(nil), sig)
}

// crack tries every word as the token's HMAC key, offline: no request
// reaches the target. It returns the index of the word that verifies
// the signature, or -1.
func crack(ctx context.Context, tk *token, words []string) (int, error) {
	h, ok := hashes[tk.alg()]
	if !ok {
		return -1, fmt.Errorf("alg %q is not an HMAC algorithm", tk.alg())
	}
	sig, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(tk.sigSeg, "="))
	if err != nil {
		return -1, fmt.Errorf("signature: %w", err)
	}
	input := []byte(tk.headerSeg + "." + tk.payloadSeg)
	for i, w := range words {
		if i%256 == 0 && ctx.Err() != nil {
			return -1, ctx.Err()
		}
		m := hmac.New(h, []byte(w))
		m.Write(input)
		if hmac.Equal(m.Sum(nil), sig) {
			return i, nil
		}
	}
	return -1, nil
}

// describe is how evidence names a forged token: its header and what was
// done to it, never the token itself.
func describe(header map[string]any, how string) string {
	h, _ := json.Marshal(header)
	return fmt.Sprintf("Bearer <forged token: header %s; %s>", h, how)
}

// mask shows enough of a secret to recognise it in the wordlist and no
// more: the report may travel further than the team that owns the target.
func mask(s string) string {
	r := []rune(s)
	if len(r) <= 4 {
		return fmt.Sprintf("%d bytes", len(s))
	}
	return fmt.Sprintf("%q… (%d bytes)", string(r[:4]), len(s))
}
