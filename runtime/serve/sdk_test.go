package serve

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/llmap/llmap/internal/testmodels"
	"github.com/llmap/llmap/runtime"
	"github.com/llmap/llmap/runtime/chat"
	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/option"
)

// TestOpenAIGoSDK drives the server with the official OpenAI Go client:
// chat completions whole and streamed (the stream assembled by the SDK's
// own accumulator), completions, models, and an API error as the SDK
// reports it. The replies are those a runtime.Session gives for the same
// conversation, and the completion from BOS is llama2.c's text.
func TestOpenAIGoSDK(t *testing.T) {
	m := storiesModel(t)
	_, base := start(t, m, Config{Model: "stories260K", Parallel: 2, Context: 512})
	client := openai.NewClient(option.WithBaseURL(base+"/v1"), option.WithAPIKey("unused"), option.WithMaxRetries(0))
	ctx := context.Background()

	// What the library gives for the conversation.
	conversation := []chat.Message{{Role: "system", Content: "You tell stories."}, {Role: "user", Content: "Tell me about a dog."}}
	format, err := m.ChatFormat()
	if err != nil {
		t.Fatal(err)
	}
	req, err := format.Request(conversation)
	if err != nil {
		t.Fatal(err)
	}
	req.MaxTokens = 48
	sess, _ := m.NewSession(512)
	var want strings.Builder
	var wantFinish runtime.Finish
	for tok, err := range sess.Generate(ctx, req) {
		if err != nil {
			t.Fatal(err)
		}
		want.WriteString(tok.Text)
		wantFinish = tok.Finish
	}
	wantText := strings.TrimLeft(want.String(), " \n") // a chat reply starts with its first word
	wantReason := "stop"
	if wantFinish == runtime.FinishLength {
		wantReason = "length"
	}

	params := openai.ChatCompletionNewParams{
		Model: "stories260K",
		Messages: []openai.ChatCompletionMessageParamUnion{
			openai.SystemMessage("You tell stories."),
			openai.UserMessage("Tell me about a dog."),
		},
		MaxCompletionTokens: openai.Int(48),
		Temperature:         openai.Float(0),
	}
	resp, err := client.Chat.Completions.New(ctx, params)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Choices) != 1 || resp.Choices[0].Message.Content != wantText || resp.Choices[0].FinishReason != wantReason {
		t.Errorf("chat: %+v\nwant %q (%s)", resp.Choices, wantText, wantReason)
	}
	if resp.Model != "stories260K" || resp.Usage.PromptTokens != int64(len(req.Tokens)) || resp.Usage.CompletionTokens == 0 {
		t.Errorf("chat response: model %q usage %+v", resp.Model, resp.Usage)
	}

	stream := client.Chat.Completions.NewStreaming(ctx, params)
	var acc openai.ChatCompletionAccumulator
	chunks := 0
	for stream.Next() {
		acc.AddChunk(stream.Current())
		chunks++
	}
	if err := stream.Err(); err != nil {
		t.Fatal(err)
	}
	if len(acc.Choices) != 1 || acc.Choices[0].Message.Content != wantText || acc.Choices[0].FinishReason != wantReason || chunks < 3 {
		t.Errorf("streamed chat (%d chunks): %+v\nwant %q", chunks, acc.Choices, wantText)
	}

	golden, err := os.ReadFile(testmodels.Path(t, "stories260K/expected_t0.0_n200.txt"))
	if err != nil {
		t.Fatal(err)
	}
	cparams := openai.CompletionNewParams{
		Model:       "stories260K",
		Prompt:      openai.CompletionNewParamsPromptUnion{OfString: openai.String("")},
		MaxTokens:   openai.Int(200),
		Temperature: openai.Float(0),
	}
	c, err := client.Completions.New(ctx, cparams)
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Choices) != 1 || c.Choices[0].Text != string(golden) || c.Choices[0].FinishReason != "length" {
		t.Errorf("completion %+v\nwant %q", c.Choices, golden)
	}
	cs := client.Completions.NewStreaming(ctx, cparams)
	var text strings.Builder
	for cs.Next() {
		for _, ch := range cs.Current().Choices {
			text.WriteString(ch.Text)
		}
	}
	if err := cs.Err(); err != nil || text.String() != string(golden) {
		t.Errorf("streamed completion: %v\n got %q\nwant %q", err, text.String(), golden)
	}

	models, err := client.Models.List(ctx)
	if err != nil || len(models.Data) != 1 || models.Data[0].ID != "stories260K" {
		t.Errorf("models: %+v %v", models, err)
	}
	if mo, err := client.Models.Get(ctx, "stories260K"); err != nil || mo.ID != "stories260K" {
		t.Errorf("model: %+v %v", mo, err)
	}

	// An error as the SDK sees it.
	params.Temperature = openai.Float(-1)
	_, err = client.Chat.Completions.New(ctx, params)
	var apiErr *openai.Error
	if !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Param != "temperature" || apiErr.Type != "invalid_request_error" {
		t.Errorf("negative temperature: %v", err)
	}
	params.Temperature = openai.Float(0)
	params.Model = "gpt-4"
	if _, err = client.Chat.Completions.New(ctx, params); !errors.As(err, &apiErr) || apiErr.StatusCode != 400 || apiErr.Code != "model_not_found" {
		t.Errorf("unknown model: %v", err)
	}
}
