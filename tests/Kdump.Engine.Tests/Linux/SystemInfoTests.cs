using System.Globalization;
using Kdump.Engine.Linux.Sys;

namespace Kdump.Engine.Tests.Linux;

public class SystemInfoTests
{
    private static Dictionary<string, string> CrashSys()
    {
        var d = new Dictionary<string, string>();
        foreach (var line in SampleDump.CrashText("sys.txt").Split('\n'))
        {
            int c = line.IndexOf(':');
            if (c > 0) d[line[..c].Trim()] = line[(c + 1)..].Trim();
        }
        return d;
    }

    [SampleFact]
    public void EveryFieldMatchesCrashSys()
    {
        var crash = CrashSys();
        var s = SystemInfo.Read(SampleDump.Vmcore);
        Assert.Equal(crash["CPUS"], $"{s.Cpus}" + (s.OfflineCpus > 0 ? $" [OFFLINE: {s.OfflineCpus}]" : ""));
        Assert.Equal(crash["UPTIME"], $"{(int)s.Uptime!.Value.TotalHours:00}:{s.Uptime.Value.Minutes:00}:{s.Uptime.Value.Seconds:00}");
        Assert.Equal(crash["LOAD AVERAGE"], s.LoadAverageText);
        Assert.Equal(crash["TASKS"], s.Tasks.ToString(CultureInfo.InvariantCulture));
        Assert.Equal(crash["NODENAME"], s.NodeName);
        Assert.Equal(crash["RELEASE"], s.Release);
        Assert.Equal(crash["VERSION"], s.Version);
        Assert.Equal(crash["MACHINE"], $"{s.Machine}  ({s.Mhz} Mhz)");
        Assert.Equal(crash["MEMORY"], s.MemoryText);
        Assert.Equal(crash["PANIC"], "\"" + s.Panic + "\"");
        Assert.Equal(crash["DATE"], FixtureAgreement.CrashRows.CrashDate(s.Date!.Value));
        Assert.True(s.IsPartialDump);
        var panic = SampleDump.Truth.GetProperty("panic");
        Assert.Equal(panic.GetProperty("pid").GetInt32(), s.PanicPid);
        Assert.Equal(panic.GetProperty("cpu").GetInt32(), s.PanicCpu);
        Assert.Equal(panic.GetProperty("comm").GetString(), s.PanicCommand);
        Assert.Equal(SampleDump.Truth.GetProperty("release").GetString(), s.Release);
    }

    [Theory]
    [InlineData(267878400UL, "255.5 MB")]
    [InlineData(4294967296UL, "4 GB")]
    [InlineData(1536UL * 1024, "1.5 MB")]
    public void SizesAreSpelledLikeCrash(ulong bytes, string text) => Assert.Equal(text, SystemInfo.SizeText(bytes));
}
