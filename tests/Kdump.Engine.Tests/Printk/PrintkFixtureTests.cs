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

    /// <summary>
    /// makedumpfile's lines as vmcore-dmesg writes them: a newline inside a record's text starts the next line at
    /// column 0 instead of under the text column (the timestamp's 15 characters, plus 11 for a caller id).
    /// </summary>
    internal static string WithoutContinuationIndent(string dmesg, bool callerIds) =>
        dmesg.Replace("\n" + new string(' ', callerIds ? 26 : 15), "\n", StringComparison.Ordinal);

    /// <summary>makedumpfile 1.7.6+ prints each record's caller id ("[      T0] ") when the kernel records it (Debian's 6.12 and 7.x kernels); vmcore-dmesg and older makedumpfile do not.</summary>
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
            // the kexec run's stored log (runs.kexec.vmcoreDmesgTool says whose): the suite's makedumpfile --dump-dmesg
            // of kexec-vmcore.elf on the host (6.12, 7.x) is the reference itself; vmcore-dmesg in the capture kernel
            // (6.1) writes a continuation line without makedumpfile's indentation, so it is compared without it
            string? vmcoreDmesg = null;
            if (m.RootElement.TryGetProperty("runs", out var runs) && runs.TryGetProperty("kexec", out var kx)
                && kx.TryGetProperty("vmcoreDmesg", out var vd) && vd.GetString() is { } vdFile && File.Exists(Path.Combine(dir, vdFile)))
            {
                string tool = kx.TryGetProperty("vmcoreDmesgTool", out var vt) ? vt.GetString() ?? "" : "";
                if (tool.StartsWith("makedumpfile ", StringComparison.Ordinal)) reference["kexec"] = Text(Path.Combine(dir, vdFile));
                else vmcoreDmesg = Text(Path.Combine(dir, vdFile));
            }
            foreach (var d in m.RootElement.GetProperty("dumps").EnumerateArray())
            {
                string run = d.GetProperty("run").GetString()!;
                var files = d.GetProperty("files").EnumerateArray().Select(f => Path.Combine(dir, f.GetString()!)).ToList();
                string? againstVmcoreDmesg = run == "kexec" ? vmcoreDmesg : null;
                if (!reference.TryGetValue(run, out var expected)
                    && MakedumpfileCrossCheckTests.Makedumpfile is not null && d.GetProperty("format").GetString() == "elf")
                    // No stored makedumpfile log for this run: make it from the run's ELF dump with the host's makedumpfile.
                    reference[run] = expected = Encoding.Latin1.GetString(MakedumpfileCrossCheckTests.RunDumpDmesg(files[0], Path.GetTempPath()));
                if (expected is null && againstVmcoreDmesg is null) continue;
                var warnings = new List<PrintkWarning>();
                string ours = ReadLog(files, warnings, expected is not null && HasCallerIds(expected));
                string name = $"{Path.GetFileName(dir)}/{d.GetProperty("name").GetString()}";
                if (warnings.Count > 0) failures.Add($"{name}: {string.Join("; ", warnings)}");
                if (expected is not null && ours != expected) failures.Add($"{name}: text differs from makedumpfile --dump-dmesg");
                if (againstVmcoreDmesg is not null && WithoutContinuationIndent(ours, expected is not null && HasCallerIds(expected)) != againstVmcoreDmesg)
                    failures.Add($"{name}: text differs from vmcore-dmesg");
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
