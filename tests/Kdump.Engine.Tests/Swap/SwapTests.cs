using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Swap;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.Linux;

namespace Kdump.Engine.Tests.Swap;

public class SwapTests
{
    [SampleFact]
    public void MatchesCrashSwapColumnByColumn()
    {
        var errors = new List<KdumpException>();
        var ours = new SwapReader(SampleDump.Vmcore.Kernel).Enumerate(errors.Add).ToList();
        Assert.Empty(errors);
        var re = new Regex(@"^([0-9a-f]{16})\s+(\S+)\s+(\d+)k\s+(\d+)k\s+(\d+)%\s+(-?\d+)\s+(\S+)$");
        var rows = SampleDump.CrashText("swap.txt").Split('\n').Select(l => re.Match(l.TrimEnd('\r'))).Where(m => m.Success).ToList();
        Assert.Single(rows);
        Assert.Equal(rows.Count, ours.Count);
        var (m, s) = (rows[0], ours[0]);
        Assert.Equal(Convert.ToUInt64(m.Groups[1].Value, 16), s.SwapInfo.Value);
        Assert.Equal(m.Groups[2].Value, s.Type);
        Assert.Equal(ulong.Parse(m.Groups[3].Value), s.Size);
        Assert.Equal(ulong.Parse(m.Groups[4].Value), s.Used);
        Assert.Equal(int.Parse(m.Groups[5].Value), s.Percent);
        Assert.Equal(short.Parse(m.Groups[6].Value), s.Priority);
        Assert.Equal(m.Groups[7].Value, s.FileName);
        Assert.True(s.IsActive);
    }

    [SampleFact]
    public void MatchesTheGuestsProcSwaps()
    {
        var truth = SampleDump.Truth.GetProperty("swaps").EnumerateArray().ToList();
        var ours = new SwapReader(SampleDump.Vmcore.Kernel).Enumerate(e => throw e).ToList();
        Assert.Equal(truth.Count, ours.Count);
        foreach (var (t, s) in truth.Zip(ours))
        {
            Assert.Equal(t.GetProperty("filename").GetString(), s.FileName);
            Assert.Equal(t.GetProperty("type").GetString(), s.Type.ToLowerInvariant());
            Assert.Equal(t.GetProperty("size").GetUInt64(), s.Size);
            Assert.Equal(t.GetProperty("used").GetUInt64(), s.Used);
            Assert.Equal(t.GetProperty("priority").GetInt32(), s.Priority);
            Assert.Equal(s.Pages * 4, s.Size);
        }
    }

    [SampleFact]
    public void GarbageSwapTableIsAnErrorWithAnId()
    {
        var p = PatchedMemory.SampleProgram((mem, prog) =>
            mem.Write(PatchedMemory.Phys(prog, prog.GetSymbol("nr_swapfiles").Address), BitConverter.GetBytes(100000u)));
        var ex = Assert.Throws<KdumpException>(() => new SwapReader(p).Enumerate(_ => { }).ToList());
        Assert.Equal("SwapTableCorrupt", ex.ErrorId);

        var si = new SwapReader(SampleDump.Vmcore.Kernel).SwapInfoAddresses()[0];
        var p2 = PatchedMemory.SampleProgram((mem, prog) =>
            mem.WriteU64(PatchedMemory.Phys(prog, si + Irq.IrqTests.KernelObjectOffsets(prog, "struct swap_info_struct", "swap_file")), 0xdead000000000000));
        var errors = new List<KdumpException>();
        Assert.Empty(new SwapReader(p2).Enumerate(errors.Add));
        Assert.Equal("SwapInfoUnreadable", Assert.Single(errors).ErrorId);
    }
}
