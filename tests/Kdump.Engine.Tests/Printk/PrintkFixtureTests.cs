using System.Diagnostics;
using System.Text;
using System.Text.Json;
using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Printk;
using Kdump.Engine.Program;

namespace Kdump.Engine.Tests.Printk;

/// <summary>
/// On real dumps (the committed sample and the generated fixtures), read through the real dump readers and address
/// translation, our lines are byte-identical to makedumpfile --dump-dmesg (and to crash 8.0.6's log).
/// </summary>
public class PrintkFixtureTests
{
    internal static string Lines(IEnumerable<CrashLogRecord> records)
    {
        var sb = new StringBuilder();
        foreach (var r in records) sb.Append(r.ToString()).Append('\n');
        return sb.ToString();
    }

    /// <summary>The kernel log of a dump (all its files: a split set is one dump) as makedumpfile would write it.</summary>
    internal static string ReadLog(IReadOnlyList<string> files, List<PrintkWarning> warnings, bool callerIds = false)
    {
        var opened = DumpFile.OpenAll(files);
        var result = Assert.Single(opened);
        Assert.Null(result.Error);
        using var dump = result.Dump!;
        var vi = dump.VmcoreInfo ?? throw new Xunit.Sdk.XunitException($"{files[0]} has no VMCOREINFO");
        var program = new KernelProgram(dump, vi, dump.Cpus);
        return Lines(PrintkLog.EnumerateRecords(vi, program.ReadKernel, null, callerIds ? CrashLogFormat.WithCallerId : CrashLogFormat.Default, warnings.Add));
    }

    private static string Text(string path) => Encoding.Latin1.GetString(File.ReadAllBytes(path));

    /// <summary>makedumpfile 1.7.8 prints each record's caller id ("[      T0] ") when the kernel records it (7.x); older ones do not.</summary>
    internal static bool HasCallerIds(string dmesg) =>
        System.Text.RegularExpressions.Regex.IsMatch(dmesg, @"\A\[\s*\d+\.\d{6}\] \[\s*[TC]\d+\] ");

    [SampleFact]
    public void SampleMatchesMakedumpfileAndCrash()
    {
        string dir = TestEnvironment.SamplesDir;
        using var m = TestEnvironment.LoadManifest(dir);
        var d = m.RootElement.GetProperty("dumps")[0];
        var files = d.GetProperty("files").EnumerateArray().Select(f => Path.Combine(dir, f.GetString()!)).ToList();
        var warnings = new List<PrintkWarning>();
        string ours = ReadLog(files, warnings);
        Assert.Empty(warnings);
        Assert.True(ours.Length > 10_000);
        Assert.Equal(Text(Path.Combine(dir, m.RootElement.GetProperty("dmesg").GetString()!)), ours);
        string crashLog = Path.Combine(dir, "crash", "log.txt");
        if (File.Exists(crashLog)) Assert.Equal(Text(crashLog), ours);
    }

    [FixtureFact]
    public void EveryFixtureDumpMatchesMakedumpfileDumpDmesg()
    {
        int compared = 0;
        var failures = new List<string>();
        foreach (var dir in TestEnvironment.FixturesDirs)
        {
            using var m = TestEnvironment.LoadManifest(dir);
            var reference = new Dictionary<string, string>
            {
                ["pvpanic"] = Text(Path.Combine(dir, m.RootElement.GetProperty("dmesg").GetString()!)),
            };
            foreach (var d in m.RootElement.GetProperty("dumps").EnumerateArray())
            {
                string run = d.GetProperty("run").GetString()!;
                var files = d.GetProperty("files").EnumerateArray().Select(f => Path.Combine(dir, f.GetString()!)).ToList();
                if (!reference.TryGetValue(run, out var expected))
                {
                    // No stored makedumpfile output for this run (the kexec capture): make it from the run's ELF dump.
                    if (MakedumpfileCrossCheckTests.Makedumpfile is null || d.GetProperty("format").GetString() != "elf") continue;
                    reference[run] = expected = Encoding.Latin1.GetString(MakedumpfileCrossCheckTests.RunDumpDmesg(files[0], Path.GetTempPath()));
                }
                var warnings = new List<PrintkWarning>();
                string ours = ReadLog(files, warnings, HasCallerIds(expected));
                if (ours != expected || warnings.Count > 0)
                    failures.Add($"{Path.GetFileName(dir)}/{d.GetProperty("name").GetString()}: {(ours == expected ? "" : "text differs; ")}{string.Join("; ", warnings)}");
                compared++;
            }
        }
        Assert.Empty(failures);
        Assert.True(compared >= 2, $"only {compared} fixture dumps compared");
    }

    [GivenDumpFact]
    public void GivenDumpMatchesGivenDmesg()
    {
        var warnings = new List<PrintkWarning>();
        string expected = Text(Environment.GetEnvironmentVariable("KDUMP_PRINTK_DMESG")!);
        string ours = ReadLog(new[] { Environment.GetEnvironmentVariable("KDUMP_PRINTK_DUMP")! }, warnings, HasCallerIds(expected));
        Assert.Empty(warnings);
        Assert.Equal(expected, ours);
    }
}

/// <summary>Runs only when KDUMP_PRINTK_DUMP and KDUMP_PRINTK_DMESG name a dump and its makedumpfile --dump-dmesg output.</summary>
public sealed class GivenDumpFactAttribute : FactAttribute
{
    public GivenDumpFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("KDUMP_PRINTK_DUMP") is not { Length: > 0 } || Environment.GetEnvironmentVariable("KDUMP_PRINTK_DMESG") is not { Length: > 0 })
            Skip = "set KDUMP_PRINTK_DUMP and KDUMP_PRINTK_DMESG to compare one dump";
    }
}
