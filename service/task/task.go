// Package task holds the task type, its validation rules, list filters and
// the store interface the API needs. It knows nothing of HTTP or MongoDB.
package task

import (
	"context"
	"errors"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/taskready/taskready/service/failure"
)

// Field limits, so one client cannot store megabytes per task.
const (
	MaxTitleLen       = 200
	MaxDescriptionLen = 2000
	MaxSearchLen      = 200
)

// ErrNotFound is returned by a Store for a task that does not exist, is not
// the caller's, or has an id that cannot exist.
var ErrNotFound = errors.New("task not found")

// Status is where a task stands.
type Status string

// The statuses a task can have; Pending is the default.
const (
	Pending    Status = "pending"
	InProgress Status = "in-progress"
	Completed  Status = "completed"
)

// ErrInvalidStatus carries the contract's message for a status outside the enum.
var ErrInvalidStatus = failure.New(failure.Invalid, "Invalid status. Must be: pending, in-progress, or completed")

// ParseStatus validates s against the enum.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case Pending, InProgress, Completed:
		return st, nil
	}
	return "", ErrInvalidStatus
}

// Task is one user's to-do item.
type Task struct {
	ID          string
	Title       string
	Description string
	Status      Status
	UserID      string
	CreatedAt   time.Time
	UpdatedAt   time.Time
}

// Draft is a create request after decoding; nil means absent.
type Draft struct {
	Title       *string
	Description *string
	Status      *string
}

// Task validates the draft and returns the task it describes for userID.
func (d Draft) Task(userID string) (*Task, error) {
	t := &Task{UserID: userID, Status: Pending}
	if d.Title == nil {
		return nil, errTitleRequired
	}
	var err error
	if t.Title, err = title(*d.Title); err != nil {
		return nil, err
	}
	if d.Description != nil {
		if t.Description, err = description(*d.Description); err != nil {
			return nil, err
		}
	}
	if d.Status != nil {
		if t.Status, err = ParseStatus(*d.Status); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// Update is a partial change; nil fields stay as they are.
type Update struct {
	Title       *string
	Description *string
	Status      *Status
}

// Patch validates a decoded update request.
func (d Draft) Patch() (Update, error) {
	var u Update
	if d.Title != nil {
		t, err := title(*d.Title)
		if err != nil {
			return Update{}, err
		}
		u.Title = &t
	}
	if d.Description != nil {
		desc, err := description(*d.Description)
		if err != nil {
			return Update{}, err
		}
		u.Description = &desc
	}
	if d.Status != nil {
		st, err := ParseStatus(*d.Status)
		if err != nil {
			return Update{}, err
		}
		u.Status = &st
	}
	return u, nil
}

var errTitleRequired = failure.New(failure.Invalid, "Title is required")

func title(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errTitleRequired
	case utf8.RuneCountInString(s) > MaxTitleLen:
		return "", failure.Invalidf("Title must be at most %d characters", MaxTitleLen)
	}
	return s, nil
}

func description(s string) (string, error) {
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > MaxDescriptionLen {
		return "", failure.Invalidf("Description must be at most %d characters", MaxDescriptionLen)
	}
	return s, nil
}

// Filter selects one user's tasks, newest first.
type Filter struct {
	UserID string
	Search string // plain text matched case-insensitively in the title
	Status Status // empty for any
	Skip   int
	Limit  int // always set: lists are never unbounded
}

// Store persists tasks. Every method is scoped to one user: another user's
// task is ErrNotFound, never a permission error that would confirm it exists.
type Store interface {
	Create(ctx context.Context, t *Task) error
	Get(ctx context.Context, userID, id string) (*Task, error)
	List(ctx context.Context, f Filter) ([]Task, error)
	Count(ctx context.Context, f Filter) (int64, error)
	Update(ctx context.Context, userID, id string, u Update) (*Task, error)
	Delete(ctx context.Context, userID, id string) error
}
