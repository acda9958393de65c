using System.Text.Json;
using System.Text.RegularExpressions;
using Kdump.Engine.Dump;
using Kdump.Engine.Model;

namespace Kdump.Engine.Tests.Linux;

/// <summary>The committed sample dump opened once for all Linux-helper tests, plus crash's answers parsed from samples/crash.</summary>
public static class SampleDump
{
    private static readonly Lazy<Vmcore> s_vmcore = new(() => new Vmcore(DumpFile.Open(Path.Combine(TestEnvironment.SamplesDir, "vmcore.kdump"))));
    public static Vmcore Vmcore => s_vmcore.Value;

    public static string CrashText(string name) => File.ReadAllText(Path.Combine(TestEnvironment.SamplesDir, "crash", name));

    public static JsonElement Truth
    {
        get
        {
            using var m = TestEnvironment.LoadManifest(TestEnvironment.SamplesDir);
            return m.RootElement.GetProperty("truth").Clone();
        }
    }

    /// <summary>One row of crash's ps.</summary>
    public sealed record PsRow(bool Active, int Pid, int Ppid, int Cpu, ulong Task, string State, string Mem, ulong Vsz, ulong Rss, string Comm);

    private static readonly Regex s_psRow = new(@"^(>?)\s*(\d+)\s+(\d+)\s+(\d+)\s+([0-9a-f]+)\s+(\S\S)\s+([\d.]+)\s+(\d+)\s+(\d+)\s+(.*)$");

    public static List<PsRow> ParsePs(string text)
    {
        var rows = new List<PsRow>();
        foreach (var line in text.Split('\n'))
        {
            var m = s_psRow.Match(line.TrimEnd('\r'));
            if (!m.Success) continue;
            rows.Add(new PsRow(m.Groups[1].Value == ">", int.Parse(m.Groups[2].Value), int.Parse(m.Groups[3].Value), int.Parse(m.Groups[4].Value),
                Convert.ToUInt64(m.Groups[5].Value, 16), m.Groups[6].Value, m.Groups[7].Value, ulong.Parse(m.Groups[8].Value), ulong.Parse(m.Groups[9].Value), m.Groups[10].Value.TrimEnd()));
        }
        return rows;
    }

    /// <summary>Per-task sections of crash's foreach output ("PID: n  TASK: addr  CPU: c  COMMAND: "x"" headers).</summary>
    public static List<(int Pid, ulong Task, int Cpu, string Command, List<string> Lines)> ParseTaskSections(string text)
    {
        var result = new List<(int, ulong, int, string, List<string>)>();
        var header = new Regex(@"^PID:\s+(\d+)\s+TASK:\s+([0-9a-f]+)\s+CPU:\s+(\d+)\s+COMMAND:\s+""(.*)""");
        List<string>? cur = null;
        foreach (var raw in text.Split('\n'))
        {
            var line = raw.TrimEnd('\r');
            var m = header.Match(line);
            if (m.Success)
            {
                cur = new List<string>();
                result.Add((int.Parse(m.Groups[1].Value), Convert.ToUInt64(m.Groups[2].Value, 16), int.Parse(m.Groups[3].Value), m.Groups[4].Value, cur));
            }
            else if (cur is not null && line.Length > 0) cur.Add(line);
        }
        return result;
    }
}
