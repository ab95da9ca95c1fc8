package server_test

import (
	"context"
	"encoding/base64"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

const testSecret = "test-secret-that-is-long-enough-0123456789"

func TestIDORAcrossUsers(t *testing.T) {
	in := newEnv(t).start(t)
	alice, bob := in.client(t), in.client(t)
	alice.register("Alice")
	bob.register("Bob")
	task := alice.createTask(map[string]any{"title": "Alice's secret", "description": "private"})
	id := task["_id"].(string)

	bob.do("GET", "/api/tasks/"+id, nil).expect(t, 404, "Task not found")
	bob.do("PUT", "/api/tasks/"+id, map[string]any{"title": "pwned", "status": "completed"}).expect(t, 404, "Task not found")
	bob.do("DELETE", "/api/tasks/"+id, nil).expect(t, 404, "Task not found")
	if n := bob.do("GET", "/api/tasks?search=secret", nil).body["count"]; n != float64(0) {
		t.Errorf("Bob's list shows %v of Alice's tasks", n)
	}

	after := alice.do("GET", "/api/tasks/"+id, nil).expect(t, 200, "").obj("task")
	for _, f := range []string{"title", "description", "status", "updatedAt"} {
		if after[f] != task[f] {
			t.Errorf("after Bob's attempts, %s = %v; want unchanged %v", f, after[f], task[f])
		}
	}
}

func TestOperatorInjectionIsRefused(t *testing.T) {
	in := newEnv(t).start(t)
	c := in.client(t)
	_, email := c.register("Victim")
	anon := in.client(t)

	tests := []struct {
		name, body, message string
	}{
		{"both operators", `{"email":{"$gt":""},"password":{"$gt":""}}`, "email must be a string"},
		{"password operator", `{"email":"` + email + `","password":{"$ne":null}}`, "password must be a string"},
		{"email regex", `{"email":{"$regex":".*"},"password":"x"}`, "email must be a string"},
		{"array email", `{"email":["` + email + `"],"password":"secret123"}`, "email must be a string"},
		{"number password", `{"email":"` + email + `","password":123456}`, "password must be a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			anon.tb = t
			r := anon.do("POST", "/api/auth/login", tt.body).expect(t, 400, tt.message)
			if r.str("token") != "" {
				t.Fatal("a token was issued")
			}
		})
	}
	anon.tb = t
	c.do("POST", "/api/tasks", `{"title":{"$gt":""}}`).expect(t, 400, "title must be a string")
	c.do("POST", "/api/tasks", `{"title":"ok","status":{"$ne":"x"}}`).expect(t, 400, "status must be a string")
	c.do("GET", "/api/tasks?status[$ne]=pending", nil).expect(t, 400, `Query parameter "status[$ne]" is not allowed: values must be plain strings`)
	c.do("GET", "/api/tasks?search[$regex]=.*", nil).expect(t, 400, "")
}

func TestMassAssignmentIsIgnored(t *testing.T) {
	in := newEnv(t).start(t)
	alice, bob := in.client(t), in.client(t)
	aliceID, _ := alice.register("Alice")
	bobID, _ := bob.register("Bob")

	planted := "0123456789abcdef01234567"
	task := bob.createTask(map[string]any{
		"title": "mine", "user": aliceID, "_id": planted,
		"createdAt": "2000-01-01T00:00:00.000Z", "updatedAt": "2000-01-01T00:00:00.000Z", "__v": 7,
	})
	if task["user"] != bobID || task["_id"] == planted || strings.HasPrefix(task["createdAt"].(string), "2000") {
		t.Errorf("created task took client fields: %v", task)
	}
	id := task["_id"].(string)
	up := bob.do("PUT", "/api/tasks/"+id, map[string]any{"user": aliceID, "_id": planted, "createdAt": "2000-01-01T00:00:00.000Z"}).expect(t, 200, "").obj("task")
	if up["user"] != bobID || up["_id"] != id || up["createdAt"] != task["createdAt"] {
		t.Errorf("update took client fields: %v", up)
	}
	alice.do("GET", "/api/tasks/"+id, nil).expect(t, 404, "Task not found")

	r := in.client(t).do("POST", "/api/auth/register", map[string]any{
		"name": "Mallory", "email": "mallory@example.com", "password": "secret123",
		"_id": planted, "role": "admin", "isAdmin": true, "createdAt": "2000-01-01T00:00:00.000Z",
	}).expect(t, 201, "")
	if u := r.obj("user"); u["id"] == planted || u["role"] != nil || u["isAdmin"] != nil {
		t.Errorf("registration took client fields: %v", u)
	}
}

// sign returns a token for claims signed with method and key.
func sign(t *testing.T, method jwt.SigningMethod, key any, claims jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(method, claims).SignedString(key)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// unsigned builds an "alg: none" token with the given alg spelling.
func unsigned(alg string, claims string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"`+alg+`","typ":"JWT"}`)) + "." + enc([]byte(claims)) + "."
}

func TestTokensThatMustBeRefused(t *testing.T) {
	in := newEnv(t).start(t)
	c := in.client(t)
	id, _ := c.register("Tok")
	now := time.Now()
	valid := jwt.MapClaims{"userId": id, "iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}
	claimsJSON := `{"userId":"` + id + `","iat":` + strconv.FormatInt(now.Unix(), 10) + `,"exp":` + strconv.FormatInt(now.Add(time.Hour).Unix(), 10) + `}`

	// A control: the same claims, correctly signed, are accepted.
	ok := in.client(t)
	ok.token = sign(t, jwt.SigningMethodHS256, []byte(testSecret), valid)
	ok.do("GET", "/api/auth/profile", nil).expect(t, 200, "")

	parts := strings.Split(ok.token, ".")
	tampered := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(strings.Replace(claimsJSON, id, "0123456789abcdef01234567", 1))) + "." + parts[2]

	tests := map[string]string{
		"alg none":           unsigned("none", claimsJSON),
		"alg None":           unsigned("None", claimsJSON),
		"alg NONE":           unsigned("NONE", claimsJSON),
		"alg nOnE":           unsigned("nOnE", claimsJSON),
		"HS384, same secret": sign(t, jwt.SigningMethodHS384, []byte(testSecret), valid),
		"HS512, same secret": sign(t, jwt.SigningMethodHS512, []byte(testSecret), valid),
		"other secret":       sign(t, jwt.SigningMethodHS256, []byte("another-secret-another-secret-xx"), valid),
		"tampered payload":   tampered,
		"expired":            sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"userId": id, "iat": now.Add(-2 * time.Hour).Unix(), "exp": now.Add(-time.Hour).Unix()}),
		"no exp":             sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"userId": id, "iat": now.Unix()}),
		"no userId":          sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"iat": now.Unix(), "exp": now.Add(time.Hour).Unix()}),
		"issued in future":   sign(t, jwt.SigningMethodHS256, []byte(testSecret), jwt.MapClaims{"userId": id, "iat": now.Add(time.Hour).Unix(), "exp": now.Add(2 * time.Hour).Unix()}),
		"garbage":            "garbage",
		"three dots":         "...",
	}
	for name, token := range tests {
		t.Run(name, func(t *testing.T) {
			bad := in.client(t)
			bad.token = token
			bad.do("GET", "/api/auth/profile", nil).expect(t, 401, "Not authorized, invalid token")
			bad.do("GET", "/api/tasks", nil).expect(t, 401, "Not authorized, invalid token")
		})
	}

	// A valid token for a user who has since been deleted.
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := in.Profiles().Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	c.do("GET", "/api/auth/profile", nil).expect(t, 401, "User not found")
	c.do("GET", "/api/tasks", nil).expect(t, 401, "User not found")
}

func TestBadBodies(t *testing.T) {
	in := newEnv(t).start(t, "BODY_LIMIT=1kb")
	c := in.client(t)
	c.register("Body")

	big := `{"title":"` + strings.Repeat("a", 2048) + `"}`
	c.do("POST", "/api/tasks", big).expect(t, 413, "Request body too large")
	c.do("POST", "/api/auth/login", big).expect(t, 413, "Request body too large")
	c.do("POST", "/api/tasks", `{"title": "unterminated`).expect(t, 400, "Malformed JSON in request body")
	c.do("POST", "/api/tasks", `{"title":"a"} trailing`).expect(t, 400, "Malformed JSON in request body")
	c.do("POST", "/api/tasks", `["title"]`).expect(t, 400, "Request body must be a JSON object")
	c.do("POST", "/api/tasks", `"title"`).expect(t, 400, "Request body must be a JSON object")
	c.do("POST", "/api/tasks", `{"title":123}`).expect(t, 400, "title must be a string")
	c.do("POST", "/api/tasks", `{"title":true}`).expect(t, 400, "title must be a string")
	c.do("POST", "/api/tasks", strings.Repeat("[", 500)+strings.Repeat("]", 500)).expect(t, 400, "Request body must be a JSON object")
	c.do("POST", "/api/tasks", "{\"title\":\"\xff\xfe\"}").expect(t, 400, "Request body must be valid UTF-8")
	c.do("POST", "/api/tasks", "title=x", "Content-Type", "application/x-www-form-urlencoded").
		expect(t, 415, "Request body must be JSON (send Content-Type: application/json)")
	// The service is still healthy afterwards.
	c.do("GET", "/readyz", nil).expect(t, 200, "")
}
