using OrleansQuant.ChatTemplates;

namespace OrleansQuant.ChatTemplates.Tests;

/// <summary>
/// The real templates render a system + user + assistant conversation exactly as transformers'
/// apply_chat_template does (expected strings from Jinja2 3.1 with transformers' settings).
/// </summary>
public sealed class RealTemplateTests
{
    private static readonly ChatMessage[] Conversation =
    [
        new("system", "You are a helpful assistant."),
        new("user", "Hi"),
        new("assistant", "Hello! How can I help?"),
    ];

    private const string Llama31Closed =
        "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
        + "You are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|>"
        + "<|start_header_id|>assistant<|end_header_id|>\n\nHello! How can I help?<|eot_id|>";

    private const string QwenClosed =
        "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n"
        + "<|im_start|>assistant\nHello! How can I help?<|im_end|>\n";

    [Fact]
    public void Llama_3_1_instruct()
    {
        var template = ChatTemplate.Parse(RealTemplates.Llama31Instruct, "Llama-3.1-8B-Instruct/tokenizer_config.json");
        Assert.Equal(Llama31Closed, template.Render(Conversation, false, "<|begin_of_text|>", "<|eot_id|>"));
        Assert.Equal(Llama31Closed + "<|start_header_id|>assistant<|end_header_id|>\n\n", template.Render(Conversation, true, "<|begin_of_text|>", "<|eot_id|>"));
        Assert.Equal(
            "<|begin_of_text|><|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: 26 Jul 2024\n\n"
            + "You are a helpful assistant.<|eot_id|><|start_header_id|>user<|end_header_id|>\n\nHi<|eot_id|><|start_header_id|>assistant<|end_header_id|>\n\n",
            template.Render(Conversation[..2], true, "<|begin_of_text|>", "<|eot_id|>"));
    }

    [Fact]
    public void Qwen_2_5_instruct()
    {
        var template = ChatTemplate.Parse(RealTemplates.Qwen25Instruct, "Qwen2.5-7B-Instruct/tokenizer_config.json");
        Assert.Equal(QwenClosed, template.Render(Conversation, false, null, "<|im_end|>"));
        Assert.Equal(QwenClosed + "<|im_start|>assistant\n", template.Render(Conversation, true, null, "<|im_end|>"));
        Assert.Equal(
            "<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n",
            template.Render(Conversation[..2], true, null, "<|im_end|>"));
    }

    [Fact]
    public void Qwen_2_5_adds_its_default_system_prompt()
    {
        var template = ChatTemplate.Parse(RealTemplates.Qwen25Instruct, "Qwen2.5-7B-Instruct/tokenizer_config.json");
        Assert.Equal(
            "<|im_start|>system\nYou are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n",
            template.Render([new("user", "Hi")], false, null, "<|im_end|>"));
    }

    [Fact]
    public void Mistral_7b_instruct_v0_3()
    {
        var template = ChatTemplate.Parse(RealTemplates.MistralInstructV03, "Mistral-7B-Instruct-v0.3/tokenizer_config.json");

        // The system message is only placed into the last user turn, so a closed conversation drops it.
        Assert.Equal("<s>[INST] Hi[/INST] Hello! How can I help?</s>", template.Render(Conversation, false, "<s>", "</s>"));
        Assert.Equal("<s>[INST] Hi[/INST] Hello! How can I help?</s>", template.Render(Conversation, true, "<s>", "</s>"));
        Assert.Equal("<s>[INST] You are a helpful assistant.\n\nHi[/INST]", template.Render(Conversation[..2], true, "<s>", "</s>"));
    }

    [Fact]
    public void Llama_2_chat()
    {
        var template = ChatTemplate.Parse(RealTemplates.Llama2Chat, "Llama-2-7b-chat-hf/tokenizer_config.json");
        const string Closed = "<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHi [/INST] Hello! How can I help? </s>";
        Assert.Equal(Closed, template.Render(Conversation, false, "<s>", "</s>"));
        Assert.Equal(Closed, template.Render(Conversation, true, "<s>", "</s>"));
        Assert.Equal("<s>[INST] <<SYS>>\nYou are a helpful assistant.\n<</SYS>>\n\nHi [/INST]", template.Render(Conversation[..2], true, "<s>", "</s>"));
    }

    [Fact]
    public void Mistral_role_alternation_check_raises_with_the_templates_message()
    {
        var template = ChatTemplate.Parse(RealTemplates.MistralInstructV03, "mistral/tokenizer_config.json");
        var e = Assert.Throws<ChatTemplateException>(() => template.Render([new("user", "a"), new("user", "b")], false, "<s>", "</s>"));
        Assert.Equal("mistral/tokenizer_config.json: After the optional system message, conversation roles must alternate user/assistant/user/assistant/...", e.Message);
    }

    [Fact]
    public void Llama_2_role_alternation_check_raises()
    {
        var template = ChatTemplate.Parse(RealTemplates.Llama2Chat, "llama2/tokenizer_config.json");
        var e = Assert.Throws<ChatTemplateException>(() => template.Render([new("assistant", "a")], false, "<s>", "</s>"));
        Assert.Contains("Conversation roles must alternate user/assistant/user/assistant/...", e.Message);
    }
}
