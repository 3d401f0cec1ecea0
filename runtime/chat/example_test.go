package chat_test

import (
	"fmt"
	"log"

	"github.com/llmap/llmap/runtime/chat"
)

// A ChatML template, as Qwen and many fine-tunes carry in their GGUF
// metadata (tokenizer.chat_template).
const chatML = `{% for message in messages %}{{ '<|im_start|>' + message.role + '\n' + message.content + '<|im_end|>' + '\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\n' }}{% endif %}`

func Example() {
	tmpl, err := chat.New(chatML, chat.SpecialTokens{EOS: "<|endoftext|>"})
	if err != nil {
		log.Fatal(err)
	}
	prompt, err := tmpl.Render([]chat.Message{
		{Role: "system", Content: "You are a helpful assistant."},
		{Role: "user", Content: "Hello!"},
	}, true)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Print(prompt)
	fmt.Printf("stop on %q\n", tmpl.Stops())
	// Output:
	// <|im_start|>system
	// You are a helpful assistant.<|im_end|>
	// <|im_start|>user
	// Hello!<|im_end|>
	// <|im_start|>assistant
	// stop on ["<|im_end|>" "<|endoftext|>"]
}

// A model without a template gets the plain transcript unless its
// vocabulary has the ChatML tokens.
func ExampleFallback() {
	vocab := map[string]bool{"<s>": true, "</s>": true}
	tmpl := chat.Fallback(func(s string) bool { return vocab[s] }, chat.SpecialTokens{BOS: "<s>", EOS: "</s>"})
	prompt, _ := tmpl.Render([]chat.Message{{Role: "user", Content: "Tell me a story."}}, true)
	fmt.Printf("%q\nstop on %q\n", prompt, tmpl.Stops())
	// Output:
	// "User: Tell me a story.\nAssistant:"
	// stop on ["\nUser:" "</s>"]
}

// Errors name the problem and where it is.
func ExampleNew_error() {
	_, err := chat.New("{% for m in messages %}\n{{ m.content * 1000000 }}\n{% endfor %}", chat.SpecialTokens{})
	fmt.Println(err)
	// Output:
	// chat template: template rejected: line 2, col 14: the * operator is not allowed (string and list repetition have no size bound)
}
