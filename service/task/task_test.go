package task_test

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/task"
)

const statusMessage = "Invalid status. Must be: pending, in-progress, or completed"

func ptr(s string) *string { return &s }

func show(s *string) string {
	if s == nil {
		return "<nil>"
	}
	return "&" + s2q(*s)
}

func s2q(s string) string {
	if len(s) > 20 {
		return fmt.Sprintf("%q... (%d bytes)", s[:10], len(s))
	}
	return strconv.Quote(s)
}

func showDraft(d task.Draft) string {
	return "Draft{Title:" + show(d.Title) + " Description:" + show(d.Description) + " Status:" + show(d.Status) + "}"
}

// checkInvalid asserts err is an Invalid failure with message want.
func checkInvalid(t *testing.T, call string, err error, want string) {
	t.Helper()
	if err == nil {
		t.Fatalf("%s error = nil; want %q", call, want)
	}
	if got := failure.KindOf(err); got != failure.Invalid {
		t.Errorf("%s KindOf = %v; want Invalid (%v)", call, got, failure.Invalid)
	}
	if got := failure.MessageOf(err); got != want {
		t.Errorf("%s message = %q; want %q", call, got, want)
	}
}

func TestParseStatus(t *testing.T) {
	t.Parallel()
	for _, s := range []string{"pending", "in-progress", "completed"} {
		t.Run(s, func(t *testing.T) {
			t.Parallel()
			got, err := task.ParseStatus(s)
			if err != nil {
				t.Fatalf("ParseStatus(%q) error = %v", s, err)
			}
			if got != task.Status(s) {
				t.Errorf("ParseStatus(%q) = %q; want %q", s, got, s)
			}
		})
	}
	for _, s := range []string{"", "Pending", "PENDING", " pending", "pending ", "in progress", "inprogress", "done", "completed\x00", `{"$ne":""}`} {
		t.Run("bad "+s, func(t *testing.T) {
			t.Parallel()
			got, err := task.ParseStatus(s)
			checkInvalid(t, "ParseStatus("+s2q(s)+")", err, statusMessage)
			if got != "" {
				t.Errorf("ParseStatus(%q) = %q; want empty on error", s, got)
			}
			if !errors.Is(err, task.ErrInvalidStatus) {
				t.Errorf("ParseStatus(%q) error = %v; want ErrInvalidStatus", s, err)
			}
		})
	}
}

func TestStatusConstants(t *testing.T) {
	t.Parallel()
	// The contract's enum, spelled out.
	tests := []struct {
		got  task.Status
		want string
	}{
		{task.Pending, "pending"},
		{task.InProgress, "in-progress"},
		{task.Completed, "completed"},
	}
	for _, tt := range tests {
		if string(tt.got) != tt.want {
			t.Errorf("status constant = %q; want %q", tt.got, tt.want)
		}
	}
}

var (
	title200   = strings.Repeat("t", 200)
	title201   = strings.Repeat("t", 201)
	titleRunes = strings.Repeat("é", 200) // 400 bytes, 200 characters
	titleEmoji = strings.Repeat("🙂", 201)
	desc2000   = strings.Repeat("d", 2000)
	desc2001   = strings.Repeat("d", 2001)
	descRunes  = strings.Repeat("ж", 2000)
)

func TestDraftTask(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		draft task.Draft
		want  task.Task // UserID is always "u1"
	}{
		{"title only", task.Draft{Title: ptr("Buy milk")}, task.Task{Title: "Buy milk", Status: task.Pending}},
		{"trimmed", task.Draft{Title: ptr("  Buy milk \n"), Description: ptr("\t two litres ")}, task.Task{Title: "Buy milk", Description: "two litres", Status: task.Pending}},
		{"all fields", task.Draft{Title: ptr("T"), Description: ptr("D"), Status: ptr("in-progress")}, task.Task{Title: "T", Description: "D", Status: task.InProgress}},
		{"completed", task.Draft{Title: ptr("T"), Status: ptr("completed")}, task.Task{Title: "T", Status: task.Completed}},
		{"explicit pending", task.Draft{Title: ptr("T"), Status: ptr("pending")}, task.Task{Title: "T", Status: task.Pending}},
		{"empty description", task.Draft{Title: ptr("T"), Description: ptr("")}, task.Task{Title: "T", Status: task.Pending}},
		{"title 200", task.Draft{Title: ptr(title200)}, task.Task{Title: title200, Status: task.Pending}},
		{"title 200 multi-byte", task.Draft{Title: ptr(titleRunes)}, task.Task{Title: titleRunes, Status: task.Pending}},
		{"title 200 after trimming", task.Draft{Title: ptr("   " + title200 + "   ")}, task.Task{Title: title200, Status: task.Pending}},
		{"description 2000", task.Draft{Title: ptr("T"), Description: ptr(desc2000)}, task.Task{Title: "T", Description: desc2000, Status: task.Pending}},
		{"description 2000 multi-byte", task.Draft{Title: ptr("T"), Description: ptr(descRunes)}, task.Task{Title: "T", Description: descRunes, Status: task.Pending}},
		{"description 2000 after trimming", task.Draft{Title: ptr("T"), Description: ptr(" " + desc2000 + " ")}, task.Task{Title: "T", Description: desc2000, Status: task.Pending}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.draft.Task("u1")
			if err != nil {
				t.Fatalf("%s.Task(u1) error = %v", showDraft(tt.draft), err)
			}
			want := tt.want
			want.UserID = "u1"
			if *got != want {
				t.Errorf("%s.Task(u1) = %+v; want %+v", showDraft(tt.draft), *got, want)
			}
		})
	}
}

func TestDraftTaskRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		draft task.Draft
		want  string
	}{
		{"no title", task.Draft{}, "Title is required"},
		{"no title, other fields", task.Draft{Description: ptr("D"), Status: ptr("pending")}, "Title is required"},
		{"empty title", task.Draft{Title: ptr("")}, "Title is required"},
		{"blank title", task.Draft{Title: ptr(" \t\n ")}, "Title is required"},
		{"title 201", task.Draft{Title: ptr(title201)}, "Title must be at most 200 characters"},
		{"title 201 multi-byte", task.Draft{Title: ptr(titleEmoji)}, "Title must be at most 200 characters"},
		{"title 201 inner spaces kept", task.Draft{Title: ptr(title200[:100] + " " + title200[100:])}, "Title must be at most 200 characters"},
		{"description 2001", task.Draft{Title: ptr("T"), Description: ptr(desc2001)}, "Description must be at most 2000 characters"},
		{"description 2001 multi-byte", task.Draft{Title: ptr("T"), Description: ptr(descRunes + "ж")}, "Description must be at most 2000 characters"},
		{"empty status", task.Draft{Title: ptr("T"), Status: ptr("")}, statusMessage},
		{"bad status", task.Draft{Title: ptr("T"), Status: ptr("done")}, statusMessage},
		{"status wrong case", task.Draft{Title: ptr("T"), Status: ptr("Completed")}, statusMessage},
		{"title checked first", task.Draft{Title: ptr(""), Description: ptr(desc2001), Status: ptr("done")}, "Title is required"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.draft.Task("u1")
			checkInvalid(t, showDraft(tt.draft)+".Task(u1)", err, tt.want)
			if got != nil {
				t.Errorf("%s.Task(u1) = %+v; want nil on error", showDraft(tt.draft), got)
			}
		})
	}
}

func TestDraftPatch(t *testing.T) {
	t.Parallel()
	status := func(s task.Status) *task.Status { return &s }
	tests := []struct {
		name  string
		draft task.Draft
		want  task.Update
	}{
		{"empty", task.Draft{}, task.Update{}},
		{"title", task.Draft{Title: ptr(" New ")}, task.Update{Title: ptr("New")}},
		{"description", task.Draft{Description: ptr(" d ")}, task.Update{Description: ptr("d")}},
		{"clear description", task.Draft{Description: ptr("   ")}, task.Update{Description: ptr("")}},
		{"status", task.Draft{Status: ptr("completed")}, task.Update{Status: status(task.Completed)}},
		{"all", task.Draft{Title: ptr("T"), Description: ptr("D"), Status: ptr("in-progress")}, task.Update{Title: ptr("T"), Description: ptr("D"), Status: status(task.InProgress)}},
		{"title 200 multi-byte", task.Draft{Title: ptr(titleRunes)}, task.Update{Title: ptr(titleRunes)}},
		{"description 2000", task.Draft{Description: ptr(desc2000)}, task.Update{Description: ptr(desc2000)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.draft.Patch()
			if err != nil {
				t.Fatalf("%s.Patch() error = %v", showDraft(tt.draft), err)
			}
			if a, b := show(got.Title), show(tt.want.Title); a != b {
				t.Errorf("%s.Patch().Title = %s; want %s", showDraft(tt.draft), a, b)
			}
			if a, b := show(got.Description), show(tt.want.Description); a != b {
				t.Errorf("%s.Patch().Description = %s; want %s", showDraft(tt.draft), a, b)
			}
			switch {
			case got.Status == nil && tt.want.Status == nil:
			case got.Status == nil || tt.want.Status == nil || *got.Status != *tt.want.Status:
				t.Errorf("%s.Patch().Status = %v; want %v", showDraft(tt.draft), got.Status, tt.want.Status)
			}
		})
	}
}

func TestDraftPatchRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		draft task.Draft
		want  string
	}{
		{"empty title", task.Draft{Title: ptr("")}, "Title is required"},
		{"blank title", task.Draft{Title: ptr("   ")}, "Title is required"},
		{"title 201", task.Draft{Title: ptr(title201)}, "Title must be at most 200 characters"},
		{"title 201 multi-byte", task.Draft{Title: ptr(titleEmoji)}, "Title must be at most 200 characters"},
		{"description 2001", task.Draft{Description: ptr(desc2001)}, "Description must be at most 2000 characters"},
		{"bad status", task.Draft{Status: ptr("archived")}, statusMessage},
		{"empty status", task.Draft{Status: ptr("")}, statusMessage},
		{"good title, bad status", task.Draft{Title: ptr("T"), Status: ptr("x")}, statusMessage},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := tt.draft.Patch()
			checkInvalid(t, showDraft(tt.draft)+".Patch()", err, tt.want)
			if got.Title != nil || got.Description != nil || got.Status != nil {
				t.Errorf("%s.Patch() = %+v; want the zero Update on error", showDraft(tt.draft), got)
			}
		})
	}
}
