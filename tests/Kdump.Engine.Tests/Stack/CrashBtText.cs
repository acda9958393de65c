using System.Globalization;
using System.Text.RegularExpressions;

namespace Kdump.Engine.Tests.Stack;

/// <summary>crash's bt output, parsed: per task the header, numbered frames, exception RIP lines and stack switches.</summary>
public sealed record CrashBtFrame(int Level, ulong Sp, string Function, ulong Ip, string? Module);

public sealed record CrashBtTrace(int Pid, ulong Task, int Cpu, string Command, List<CrashBtFrame> Frames, List<string> ExceptionRips, bool StartsWithException, List<string> StackSwitches);

public static partial class CrashBtText
{
    [GeneratedRegex(@"^PID: (\d+)\s+TASK: ([0-9a-f]+)\s+CPU: (\d+)\s+COMMAND: ""(.*)""")]
    private static partial Regex Header();
    [GeneratedRegex(@"^\s*#(\d+) \[([0-9a-f]+)\] (\S+) at ([0-9a-f]+)(?: \[(\S+)\])?")]
    private static partial Regex Frame();
    [GeneratedRegex(@"^\s+\[exception RIP: (\S+)\]")]
    private static partial Regex Exception();
    [GeneratedRegex(@"^--- <(.*) stack> ---")]
    private static partial Regex Switch();

    public static List<CrashBtTrace> Parse(string text)
    {
        var list = new List<CrashBtTrace>();
        CrashBtTrace? cur = null;
        foreach (var line in text.Split('\n'))
        {
            Match m;
            if ((m = Header().Match(line)).Success)
            {
                cur = new CrashBtTrace(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), ulong.Parse(m.Groups[2].Value, NumberStyles.HexNumber),
                    int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), m.Groups[4].Value, new(), new(), false, new());
                list.Add(cur);
            }
            else if (cur is null) continue;
            else if ((m = Frame().Match(line)).Success)
                cur.Frames.Add(new CrashBtFrame(int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture), ulong.Parse(m.Groups[2].Value, NumberStyles.HexNumber),
                    m.Groups[3].Value, ulong.Parse(m.Groups[4].Value, NumberStyles.HexNumber), m.Groups[5].Success ? m.Groups[5].Value : null));
            else if ((m = Exception().Match(line)).Success)
            {
                cur.ExceptionRips.Add(m.Groups[1].Value);
                if (cur.Frames.Count == 0) list[^1] = cur = cur with { StartsWithException = true };
            }
            else if ((m = Switch().Match(line)).Success) cur.StackSwitches.Add(m.Groups[1].Value);
        }
        return list;
    }
}
