using System.Globalization;
using System.Text;

namespace OrleansQuant.ChatTemplates;

/// <summary>Python's <c>datetime.strftime</c> for the directives date-stamping templates use (C locale, English names).</summary>
internal static class ChatTemplateStrftime
{
    public static string Format(DateTime time, string format, ChatTemplateCall call)
    {
        var c = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        for (int i = 0; i < format.Length; i++)
        {
            if (format[i] != '%' || i + 1 >= format.Length)
            {
                sb.Append(format[i]);
                continue;
            }

            char d = format[++i];
            sb.Append(d switch
            {
                'd' => time.ToString("dd", c),
                'm' => time.ToString("MM", c),
                'y' => time.ToString("yy", c),
                'Y' => time.Year.ToString(c),
                'b' => time.ToString("MMM", c),
                'B' => time.ToString("MMMM", c),
                'a' => time.ToString("ddd", c),
                'A' => time.ToString("dddd", c),
                'H' => time.ToString("HH", c),
                'I' => time.ToString("hh", c),
                'M' => time.ToString("mm", c),
                'S' => time.ToString("ss", c),
                'p' => time.Hour < 12 ? "AM" : "PM",
                'j' => time.DayOfYear.ToString("000", c),
                'w' => ((int)time.DayOfWeek).ToString(c),
                'f' => (time.Ticks % TimeSpan.TicksPerSecond / 10).ToString("000000", c),
                '%' => "%",
                _ => throw call.Error($"strftime directive '%{d}' is not supported; expected one of %d %m %y %Y %b %B %a %A %H %I %M %S %p %j %w %f %%"),
            });
        }

        return sb.ToString();
    }
}
