import Foundation

/// The OpenAPI 3.1 description served at `GET /openapi.json`. A test checks that its paths and
/// methods are exactly the router's, and that its error codes are those the routes answer.
enum OpenAPIDocument {
  static func response() -> HTTPResponse {
    HTTPResponse(status: 200, headers: [("Content-Type", "application/json")], body: .bytes(Data(text.utf8)))
  }

  static let text = #"""
{
  "openapi": "3.1.0",
  "info": {"title": "gui-agent", "version": "0.1.0",
    "description": "Grounding, OpenAI-compatible chat, agent episodes and a trace viewer. With a token (--token or GUI_AGENT_TOKEN) every request but GET / needs 'Authorization: Bearer <token>'. Model requests wait in a bounded queue; when it is full the answer is 503 with Retry-After. Bodies over the limit (default 32 MB) get 413."},
  "components": {
    "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
    "responses": {
      "BadRequest": {"description": "Malformed JSON or a bad field; the message names the field.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Unauthorized": {"description": "Missing or wrong bearer token.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "NotFound": {"description": "No such route, episode, step or screenshot.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "MethodNotAllowed": {"description": "The path exists under another method (see Allow).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Conflict": {"description": "An episode is already running, or the episode is not running.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "TooLarge": {"description": "The request body exceeds the limit.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}},
      "Busy": {"description": "The inference queue is full (see Retry-After), or the server is shutting down (or, on /v1/parse, has no OCR language data).", "headers": {"Retry-After": {"schema": {"type": "integer"}}}, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    },
    "schemas": {
      "Error": {"type": "object", "required": ["error"], "properties": {"error": {"type": "object", "required": ["message", "type", "code"], "properties": {"message": {"type": "string"}, "type": {"type": "string"}, "code": {"type": "integer"}}}}},
      "GroundRequest": {"type": "object", "required": ["instruction"], "additionalProperties": false, "properties": {
        "image": {"type": "string", "description": "Base64 PNG (or a data:image/png;base64 URL)."},
        "capture": {"type": "boolean", "description": "Capture the server's screen instead of image."},
        "monitor": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}], "description": "With capture: a monitor index or RandR name."},
        "instruction": {"type": "string"},
        "think": {"type": "boolean", "description": "true opens the reasoning block; false forces a direct answer."},
        "think_budget": {"type": "integer", "minimum": 0, "description": "Most reasoning tokens (implies think)."},
        "max_tokens": {"type": "integer", "minimum": 1, "maximum": 4096, "description": "Most answer tokens (default 48)."}}},
      "GroundResponse": {"type": "object", "required": ["x", "y", "box", "answer", "timings"], "properties": {
        "x": {"type": ["integer", "null"]}, "y": {"type": ["integer", "null"]},
        "box": {"type": ["array", "null"], "items": {"type": "integer"}, "description": "[x1, y1, x2, y2] in screen pixels, inclusive."},
        "answer": {"type": "string"}, "reasoning": {"type": "string"},
        "no_coordinate": {"type": ["string", "null"]}, "image_size": {"type": "array", "items": {"type": "integer"}},
        "timings": {"type": "object", "additionalProperties": {"type": "number"}, "description": "Seconds: input, preprocess, vision, prefill, decode, queue, total."}}},
      "ParseRequest": {"type": "object", "additionalProperties": false, "properties": {
        "image": {"type": "string", "description": "Base64 PNG (or a data:image/png;base64 URL)."},
        "capture": {"type": "boolean", "description": "Capture the server's screen instead of image."},
        "monitor": {"oneOf": [{"type": "integer", "minimum": 0}, {"type": "string"}], "description": "With capture: a monitor index or RandR name."},
        "words": {"type": "boolean", "description": "List single words instead of text lines."},
        "scale": {"type": "number", "minimum": 1, "maximum": 4, "description": "Upscaling before OCR (default 2)."},
        "segmentation": {"enum": ["sparse", "auto", "block"], "description": "Tesseract's page segmentation (default sparse)."},
        "language": {"type": "string", "description": "Tesseract language(s), e.g. eng or eng+deu (default eng)."}}},
      "ParseResponse": {"type": "object", "required": ["area", "elements", "milliseconds", "parser"], "properties": {
        "area": {"$ref": "#/components/schemas/Rect"},
        "elements": {"type": "array", "items": {"type": "object", "required": ["id", "kind", "text", "box", "confidence"], "properties": {
          "id": {"type": "integer", "minimum": 1, "description": "The number drawn beside the box (set-of-marks)."},
          "kind": {"enum": ["text", "word"]}, "text": {"type": "string"},
          "box": {"$ref": "#/components/schemas/Rect"},
          "confidence": {"type": "number", "minimum": 0, "maximum": 100}}}},
        "milliseconds": {"type": "number"}, "parser": {"type": "string"},
        "image_size": {"type": "array", "items": {"type": "integer"}}}},
      "Rect": {"type": "object", "required": ["x", "y", "width", "height"], "description": "Screen pixels (the image's own pixels for image).", "properties": {
        "x": {"type": "integer"}, "y": {"type": "integer"}, "width": {"type": "integer"}, "height": {"type": "integer"}}},
      "ChatRequest": {"type": "object", "required": ["messages"], "properties": {
        "model": {"type": "string"},
        "messages": {"type": "array", "items": {"type": "object", "required": ["role", "content"], "properties": {
          "role": {"enum": ["system", "developer", "user", "assistant"]},
          "content": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "object", "properties": {
            "type": {"enum": ["text", "image_url"]}, "text": {"type": "string"},
            "image_url": {"type": "object", "properties": {"url": {"type": "string", "description": "data:image/png;base64,..."}}}}}}]}}}},
        "temperature": {"type": "number", "minimum": 0, "maximum": 2}, "top_p": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
        "top_k": {"type": "integer", "minimum": 0}, "max_tokens": {"type": "integer", "minimum": 1}, "max_completion_tokens": {"type": "integer", "minimum": 1},
        "stop": {"oneOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}, "maxItems": 16}]},
        "seed": {"type": "integer"}, "n": {"const": 1}, "stream": {"type": "boolean"},
        "stream_options": {"type": "object", "properties": {"include_usage": {"type": "boolean"}}},
        "think": {"type": "boolean"}, "think_budget": {"type": "integer", "minimum": 0}}},
      "ChatCompletion": {"type": "object", "required": ["id", "object", "created", "model", "choices", "usage"], "properties": {
        "id": {"type": "string"}, "object": {"const": "chat.completion"}, "created": {"type": "integer"}, "model": {"type": "string"},
        "choices": {"type": "array", "items": {"type": "object", "properties": {"index": {"type": "integer"}, "finish_reason": {"enum": ["stop", "length"]},
          "message": {"type": "object", "properties": {"role": {"const": "assistant"}, "content": {"type": "string"}, "reasoning_content": {"type": "string"}}}}}},
        "usage": {"$ref": "#/components/schemas/Usage"}}},
      "Usage": {"type": "object", "properties": {"prompt_tokens": {"type": "integer"}, "completion_tokens": {"type": "integer"}, "total_tokens": {"type": "integer"}}},
      "EpisodeRequest": {"type": "object", "required": ["task"], "additionalProperties": false, "properties": {
        "task": {"type": "string"}, "settings": {"type": "object", "description": "Agent settings (max_steps, dry_run, ...), as the agent loop reads them."}}},
      "EpisodeSummary": {"type": "object", "properties": {"id": {"type": "integer"}, "task": {"type": "string"},
        "status": {"enum": ["running", "succeeded", "failed", "stopped", "max_steps", "interrupted"]}, "steps": {"type": "integer"},
        "started": {"type": "string", "format": "date-time"}, "ended": {"type": ["string", "null"], "format": "date-time"}, "live": {"type": "boolean"}}},
      "Episode": {"type": "object", "properties": {"id": {"type": "integer"}, "task": {"type": "string"}, "status": {"type": "string"},
        "models": {"type": "object"}, "settings": {}, "started": {"type": "string"}, "ended": {"type": ["string", "null"]},
        "summary": {"type": ["string", "null"]}, "error": {"type": ["string", "null"]}, "live": {"type": "boolean"},
        "steps": {"type": "array", "items": {"$ref": "#/components/schemas/Step"}}}},
      "Step": {"type": "object", "properties": {"index": {"type": "integer"}, "started": {"type": "string"}, "ended": {"type": ["string", "null"]},
        "reasoning": {"type": ["string", "null"]}, "raw_output": {"type": "string"}, "action": {}, "action_text": {"type": ["string", "null"]},
        "grounded_point": {"type": ["object", "null"], "properties": {"x": {"type": "number"}, "y": {"type": "number"}}},
        "screen_changed": {"type": ["boolean", "null"]}, "latencies": {"type": "object"}, "tokens": {"type": ["object", "null"]},
        "error": {"type": ["string", "null"]}, "screenshot_before": {"type": ["string", "null"]}, "screenshot_after": {"type": ["string", "null"]}}}
    }
  },
  "security": [{"bearer": []}, {}],
  "paths": {
    "/": {"get": {"summary": "The trace viewer page (HTML). Served without a token.", "security": [],
      "responses": {"200": {"description": "HTML", "content": {"text/html": {}}}}}},
    "/healthz": {"get": {"summary": "Liveness, model and queue state.",
      "responses": {"200": {"description": "OK", "content": {"application/json": {}}}, "401": {"$ref": "#/components/responses/Unauthorized"}}}},
    "/openapi.json": {"get": {"summary": "This document.",
      "responses": {"200": {"description": "OpenAPI 3.1", "content": {"application/json": {}}}, "401": {"$ref": "#/components/responses/Unauthorized"}}}},
    "/v1/models": {"get": {"summary": "The loaded model, OpenAI list shape.",
      "responses": {"200": {"description": "OK", "content": {"application/json": {}}}, "401": {"$ref": "#/components/responses/Unauthorized"}}}},
    "/v1/ground": {"post": {"summary": "Instruction + screenshot -> screen point.",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GroundRequest"}}}},
      "responses": {"200": {"description": "The point (x, y null when the answer held none).", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/GroundResponse"}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
        "413": {"$ref": "#/components/responses/TooLarge"}, "503": {"$ref": "#/components/responses/Busy"}}}},
    "/v1/parse": {"post": {"summary": "Screenshot -> the text on it as numbered elements with boxes (Tesseract OCR).",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ParseRequest"}}}},
      "responses": {"200": {"description": "The elements in reading order, boxes in screen pixels.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ParseResponse"}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
        "413": {"$ref": "#/components/responses/TooLarge"}, "503": {"$ref": "#/components/responses/Busy"}}}},
    "/v1/chat/completions": {"post": {"summary": "OpenAI-compatible chat completion; stream: true answers with server-sent events (chat.completion.chunk, then [DONE]).",
      "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatRequest"}}}},
      "responses": {"200": {"description": "A completion, or an event stream.", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ChatCompletion"}}, "text/event-stream": {}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
        "413": {"$ref": "#/components/responses/TooLarge"}, "503": {"$ref": "#/components/responses/Busy"}}}},
    "/v1/episodes": {
      "get": {"summary": "Every episode, newest first.",
        "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"type": "object", "properties": {"episodes": {"type": "array", "items": {"$ref": "#/components/schemas/EpisodeSummary"}}}}}}},
          "401": {"$ref": "#/components/responses/Unauthorized"}, "503": {"$ref": "#/components/responses/Busy"}}},
      "post": {"summary": "Start an agent episode (one at a time).",
        "requestBody": {"required": true, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/EpisodeRequest"}}}},
        "responses": {"202": {"description": "Started: {id, status, task}.", "content": {"application/json": {}}},
          "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
          "409": {"$ref": "#/components/responses/Conflict"}, "413": {"$ref": "#/components/responses/TooLarge"}, "503": {"$ref": "#/components/responses/Busy"}}}},
    "/v1/episodes/{id}": {"get": {"summary": "One episode with its steps.",
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}],
      "responses": {"200": {"description": "OK", "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Episode"}}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/v1/episodes/{id}/steps/{n}/screenshot.png": {"get": {"summary": "A step's screenshot (before the action, or after with ?moment=after).",
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}},
        {"name": "n", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{1,6}$"}},
        {"name": "moment", "in": "query", "required": false, "schema": {"enum": ["before", "after"]}}],
      "responses": {"200": {"description": "PNG", "content": {"image/png": {}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"}, "404": {"$ref": "#/components/responses/NotFound"}}}},
    "/v1/episodes/{id}/stop": {"post": {"summary": "Ask the running episode to stop after its current step.",
      "parameters": [{"name": "id", "in": "path", "required": true, "schema": {"type": "string", "pattern": "^[0-9]{1,18}$"}}],
      "responses": {"202": {"description": "Stopping: {id, status}.", "content": {"application/json": {}}},
        "400": {"$ref": "#/components/responses/BadRequest"}, "401": {"$ref": "#/components/responses/Unauthorized"},
        "404": {"$ref": "#/components/responses/NotFound"}, "409": {"$ref": "#/components/responses/Conflict"}}}}
  }
}
"""#
}
