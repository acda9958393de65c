using System.Text.RegularExpressions;
using Kdump.Engine.Linux.MemInfo;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.Linux;

namespace Kdump.Engine.Tests.MemInfo;

public class MemoryInfoTests
{
    /// <summary>crash's kmem -i lines: label, pages, size text, percentage text.</summary>
    internal static List<(string Name, ulong Pages, string Size, string Pct)> ParseKmemI(string text)
    {
        var re = new Regex(@"^\s*([A-Z][A-Z ]*[A-Z])\s+(\d+)\s+(\d+(?:\.\d)?(?: [KMG]B)?)\s+(.*)$");
        return text.Split('\n').Select(l => re.Match(l.TrimEnd('\r'))).Where(m => m.Success)
            .Select(m => (m.Groups[1].Value, ulong.Parse(m.Groups[2].Value), m.Groups[3].Value, m.Groups[4].Value.Trim())).ToList();
    }

    [SampleFact]
    public void EveryLineMatchesCrashKmemI()
    {
        var warnings = new List<string>();
        var lines = new MemoryInfoReader(SampleDump.Vmcore.Kernel, (id, m) => warnings.Add(id + ": " + m)).ReadLines();
        Assert.Empty(warnings);
        var crash = ParseKmemI(SampleDump.CrashText("kmem-i.txt"));
        Assert.Equal(14, crash.Count);
        Assert.Equal(crash.Select(c => c.Name), lines.Select(l => l.Name));
        foreach (var (c, l) in crash.Zip(lines))
        {
            Assert.True(c.Pages == l.Pages, $"{c.Name}: {l.Pages} pages, crash {c.Pages}");
            Assert.Equal(c.Size, l.Size);
            Assert.Equal(c.Pct, l.PercentText);
            Assert.Equal(l.Pages * 4096, l.Bytes);
        }
    }

    [SampleFact]
    public void FiguresAgreeWithTheGuestsMeminfo()
    {
        // /proc/meminfo was read before the crash; totals are fixed, the rest moved a little.
        var mi = SampleDump.Truth.GetProperty("meminfoKiB");
        var f = new MemoryInfoReader(SampleDump.Vmcore.Kernel).Read();
        Assert.Equal(mi.GetProperty("memtotal").GetUInt64(), f.TotalRam * 4);
        Assert.Equal(mi.GetProperty("swaptotal").GetUInt64(), f.SwapTotal * 4);
        Assert.Equal(mi.GetProperty("commitlimit").GetUInt64(), f.CommitLimit * 4);
        Assert.Equal(mi.GetProperty("hugepagesTotal").GetUInt64(), f.HugeTotal);
        Assert.InRange((double)f.Slab * 4, mi.GetProperty("slab").GetUInt64() * 0.8, mi.GetProperty("slab").GetUInt64() * 1.2);
        Assert.Equal(f.FilePages - f.SwapCache - f.Buffers, f.Cached);
        Assert.True(f.CommittedSum >= f.Committed - 64 * 2);
    }

    [Theory]
    [InlineData(0UL, "0")]
    [InlineData(512UL, "512")]
    [InlineData(4096UL, "4 KB")]
    [InlineData(215531520UL, "205.5 MB")]
    [InlineData(536866816UL, "512 MB")]
    [InlineData(3UL << 30, "3 GB")]
    [InlineData((5UL << 30) + (1UL << 29), "5.5 GB")]
    public void SizesArePrintedAsCrashPrintsThem(ulong bytes, string text) => Assert.Equal(text, CrashMemoryInfoLine.FormatSize(bytes));

    [SampleFact]
    public void UnreadableCounterIsAWarningWithAnIdAndTheRestStays()
    {
        var p = PatchedMemory.SampleProgram((mem, prog) => mem.Exclude(PatchedMemory.Phys(prog, prog.GetSymbol("blockdev_superblock").Address)));
        var warnings = new List<string>();
        var f = new MemoryInfoReader(p, (id, m) => warnings.Add(id)).Read();
        Assert.Contains("MemoryFigureUnreadable", warnings);
        Assert.Equal(52620UL, f.TotalRam);
    }
}
