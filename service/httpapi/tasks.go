package httpapi

import (
	"errors"

	"github.com/gofiber/fiber/v3"

	"github.com/taskready/taskready/service/failure"
	"github.com/taskready/taskready/service/task"
)

var errTaskNotFound = failure.New(failure.NotFound, "Task not found")

// taskBody is a create or update request; only these fields are read, so
// user, _id and timestamps in a body are ignored, never assigned.
type taskBody struct {
	Title       *string `json:"title"`
	Description *string `json:"description"`
	Status      *string `json:"status"`
}

func (b taskBody) draft() task.Draft {
	return task.Draft{Title: b.Title, Description: b.Description, Status: b.Status}
}

// notFound turns the store's not-found into the contract's 404.
func notFound(err error) error {
	if errors.Is(err, task.ErrNotFound) {
		return errTaskNotFound
	}
	return err
}

func (s *server) listTasks(c fiber.Ctx) error {
	q, err := parseListQuery(string(c.Request().URI().QueryString()), s.opts.MaxPageSize)
	if err != nil {
		return err
	}
	q.filter.UserID = currentUser(c).ID
	tasks, err := s.deps.Tasks.List(c.Context(), q.filter)
	if err != nil {
		return err
	}
	out := listAnswer{Count: len(tasks), Tasks: make([]taskView, len(tasks))}
	for i := range tasks {
		out.Tasks[i] = viewTask(&tasks[i])
	}
	if q.paged {
		total, err := s.deps.Tasks.Count(c.Context(), q.filter)
		if err != nil {
			return err
		}
		limit := int64(q.filter.Limit)
		out.Pagination = &pagination{Page: q.page, Limit: q.filter.Limit, Total: total, Pages: (total + limit - 1) / limit}
	}
	return c.JSON(out)
}

func (s *server) getTask(c fiber.Ctx) error {
	t, err := s.deps.Tasks.Get(c.Context(), currentUser(c).ID, c.Params("id"))
	if err != nil {
		return notFound(err)
	}
	return c.JSON(taskAnswer{Task: viewTask(t)})
}

func (s *server) createTask(c fiber.Ctx) error {
	var in taskBody
	if err := decodeJSON(c.Get(fiber.HeaderContentType), c.Body(), &in); err != nil {
		return err
	}
	t, err := in.draft().Task(currentUser(c).ID)
	if err != nil {
		return err
	}
	if err := s.deps.Tasks.Create(c.Context(), t); err != nil {
		return err
	}
	return c.Status(fiber.StatusCreated).JSON(taskAnswer{Message: "Task created successfully", Task: viewTask(t)})
}

func (s *server) updateTask(c fiber.Ctx) error {
	var in taskBody
	if err := decodeJSON(c.Get(fiber.HeaderContentType), c.Body(), &in); err != nil {
		return err
	}
	u, err := in.draft().Patch()
	if err != nil {
		return err
	}
	t, err := s.deps.Tasks.Update(c.Context(), currentUser(c).ID, c.Params("id"), u)
	if err != nil {
		return notFound(err)
	}
	return c.JSON(taskAnswer{Message: "Task updated successfully", Task: viewTask(t)})
}

func (s *server) deleteTask(c fiber.Ctx) error {
	if err := s.deps.Tasks.Delete(c.Context(), currentUser(c).ID, c.Params("id")); err != nil {
		return notFound(err)
	}
	return c.JSON(messageAnswer{Message: "Task deleted successfully"})
}
