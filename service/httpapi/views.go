package httpapi

import (
	"time"

	"github.com/taskready/taskready/service/task"
	"github.com/taskready/taskready/service/user"
)

// jsTime marshals as JavaScript's Date.prototype.toJSON does
// ("2024-05-01T12:00:00.000Z"), the format the original API sent.
type jsTime time.Time

const jsLayout = "2006-01-02T15:04:05.000Z"

// MarshalJSON implements json.Marshaler.
func (t jsTime) MarshalJSON() ([]byte, error) {
	b := make([]byte, 0, len(jsLayout)+2)
	b = append(b, '"')
	b = time.Time(t).UTC().AppendFormat(b, jsLayout)
	return append(b, '"'), nil
}

type taskView struct {
	ID          string `json:"_id"`
	Title       string `json:"title"`
	Description string `json:"description"`
	Status      string `json:"status"`
	User        string `json:"user"`
	CreatedAt   jsTime `json:"createdAt"`
	UpdatedAt   jsTime `json:"updatedAt"`
}

func viewTask(t *task.Task) taskView {
	return taskView{
		ID: t.ID, Title: t.Title, Description: t.Description, Status: string(t.Status),
		User: t.UserID, CreatedAt: jsTime(t.CreatedAt), UpdatedAt: jsTime(t.UpdatedAt),
	}
}

// userView is the user in register and login answers.
type userView struct {
	ID    string `json:"id"`
	Name  string `json:"name"`
	Email string `json:"email"`
}

// profileView is the user in the profile answer.
type profileView struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	CreatedAt jsTime `json:"createdAt"`
}

func viewProfile(p user.Profile) profileView {
	return profileView{ID: p.ID, Name: p.Name, Email: p.Email, CreatedAt: jsTime(p.CreatedAt)}
}

type authAnswer struct {
	Message string   `json:"message"`
	Token   string   `json:"token"`
	User    userView `json:"user"`
}

type taskAnswer struct {
	Message string   `json:"message,omitempty"`
	Task    taskView `json:"task"`
}

type pagination struct {
	Page  int   `json:"page"`
	Limit int   `json:"limit"`
	Total int64 `json:"total"`
	Pages int64 `json:"pages"`
}

type listAnswer struct {
	Count      int         `json:"count"`
	Tasks      []taskView  `json:"tasks"`
	Pagination *pagination `json:"pagination,omitempty"`
}

type messageAnswer struct {
	Message string `json:"message"`
}
