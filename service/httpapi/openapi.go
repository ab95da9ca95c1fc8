package httpapi

import (
	_ "embed"

	"github.com/gofiber/fiber/v3"
)

// OpenAPIDocument is the OpenAPI 3.1 description of every route New
// registers; TestOpenAPIMatchesRoutes keeps the two in step.
//
//go:embed openapi.json
var OpenAPIDocument []byte

func openAPI(c fiber.Ctx) error {
	c.Set(fiber.HeaderContentType, fiber.MIMEApplicationJSONCharsetUTF8)
	return c.Send(OpenAPIDocument)
}
