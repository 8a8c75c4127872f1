using OrleansQuant.ChatTemplates;

namespace OrleansQuant.Model.Calibration;

/// <summary>One validated line of a JSONL calibration file: either plain <see cref="Text"/> or a chat in <see cref="Messages"/>.</summary>
internal sealed record CalibrationRecord(int Line, string? Text, IReadOnlyList<ChatMessage>? Messages);
