using System.Text;
using System.Text.Json;
using Kdump.Engine.Linux.Printk;

namespace Kdump.Engine.Tests.Printk;

/// <summary>On the real dumps of the fixture generator, our lines are byte-identical to makedumpfile --dump-dmesg.</summary>
public class PrintkFixtureTests
{
    internal static string Lines(IEnumerable<CrashLogRecord> records)
    {
        var sb = new StringBuilder();
        foreach (var r in records) sb.Append(r.ToString()).Append('\n');
        return sb.ToString();
    }

    internal static void AssertMatches(string elfPath, string dmesgPath)
    {
        using var elf = new TestElfPhysicalReader(elfPath);
        var warnings = new List<PrintkWarning>();
        string ours = Lines(PrintkLog.EnumerateRecords(elf.VmcoreInfo, elf.ReadVirtual, null, CrashLogFormat.Default, warnings.Add));
        string theirs = Encoding.Latin1.GetString(File.ReadAllBytes(dmesgPath));
        Assert.Empty(warnings);
        Assert.True(theirs.Length > 1000, "the reference dmesg is suspiciously short");
        Assert.Equal(theirs, ours);
    }

    [FixtureFact]
    public void ElfDumpsOfThePvpanicRunMatchMakedumpfileDumpDmesg()
    {
        string dir = TestEnvironment.FixturesDir!;
        using var m = TestEnvironment.LoadManifest(dir);
        string dmesg = Path.Combine(dir, m.RootElement.GetProperty("dmesg").GetString()!);
        int checkedDumps = 0;
        foreach (var d in m.RootElement.GetProperty("dumps").EnumerateArray())
        {
            if (d.GetProperty("format").GetString() != "elf" || d.GetProperty("run").GetString() != "pvpanic") continue;
            var files = d.GetProperty("files");
            AssertMatches(Path.Combine(dir, files[0].GetString()!), dmesg);
            checkedDumps++;
        }
        Assert.True(checkedDumps > 0, "the manifest lists no ELF dump of the pvpanic run");
    }

    /// <summary>A one-off check against any ELF dump and its makedumpfile --dump-dmesg output (KDUMP_PRINTK_ELF / KDUMP_PRINTK_DMESG).</summary>
    [GivenDumpFact]
    public void GivenElfDumpMatchesGivenDmesg() =>
        AssertMatches(Environment.GetEnvironmentVariable("KDUMP_PRINTK_ELF")!, Environment.GetEnvironmentVariable("KDUMP_PRINTK_DMESG")!);
}

/// <summary>Runs only when KDUMP_PRINTK_ELF and KDUMP_PRINTK_DMESG name an ELF dump and its makedumpfile --dump-dmesg output.</summary>
public sealed class GivenDumpFactAttribute : FactAttribute
{
    public GivenDumpFactAttribute()
    {
        if (Environment.GetEnvironmentVariable("KDUMP_PRINTK_ELF") is not { Length: > 0 } || Environment.GetEnvironmentVariable("KDUMP_PRINTK_DMESG") is not { Length: > 0 })
            Skip = "set KDUMP_PRINTK_ELF and KDUMP_PRINTK_DMESG to compare one dump";
    }
}
