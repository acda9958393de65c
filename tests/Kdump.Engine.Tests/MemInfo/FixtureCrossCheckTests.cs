using Kdump.Engine.Dump;
using Kdump.Engine.Linux.Ipc;
using Kdump.Engine.Linux.Irq;
using Kdump.Engine.Linux.MemInfo;
using Kdump.Engine.Linux.Swap;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.Ipc;
using Kdump.Engine.Tests.Irq;
using Xunit.Abstractions;

namespace Kdump.Engine.Tests.MemInfo;

/// <summary>irq -s, ipcs, swap and kmem -i on the generated fixture dumps (pvpanic capture vs crash/, kexec capture vs crash-kexec/).</summary>
public class FixtureCrossCheckTests
{
    private readonly ITestOutputHelper _out;
    public FixtureCrossCheckTests(ITestOutputHelper o) => _out = o;

    [FixtureFact]
    public void IrqIpcSwapAndKmemAgreeWithCrashOnEveryCapture()
    {
        var dir = TestEnvironment.FixturesDir!;
        int checkedDumps = 0;
        foreach (var (dump, crashDir) in new[] { ("mdf-zlib.kdump", "crash"), ("kexec-mdf-zlib.kdump", "crash-kexec") })
        {
            string path = Path.Combine(dir, dump), cdir = Path.Combine(dir, crashDir);
            if (!File.Exists(path) || !File.Exists(Path.Combine(cdir, "kmem-i.txt"))) continue;
            using var v = new Vmcore(DumpFile.Open(path));
            var k = v.Kernel;
            string Text(string f) => File.ReadAllText(Path.Combine(cdir, f));

            var irq = new IrqReader(k).EnumerateStatistics(null, e => throw e).ToList();
            var crashIrq = IrqTests.ParseCrashIrqS(Text("irq.txt"), k.PerCpuOffsets.Count);
            Assert.Equal(crashIrq.Select(c => c.Irq), irq.Select(i => i.Irq));
            foreach (var (c, o) in crashIrq.Zip(irq))
            {
                Assert.True(c.Counts.SequenceEqual(o.CountsPerCpu), $"{dump} IRQ {c.Irq}");
                Assert.Equal(c.Chip, o.CrashChip);
                Assert.Equal(c.Name, o.Name);
            }

            var ipc = new IpcReader(k).Enumerate(new[] { CrashIpcKind.Shm, CrashIpcKind.Sem, CrashIpcKind.Msg }, e => throw e, _ => { }).ToList();
            var crashIpc = IpcTests.ParseCrashIpcs(Text("ipcs.txt"));
            Assert.Equal(crashIpc.Select(c => Convert.ToUInt64(c.Fields[0], 16)), ipc.Select(o => o.Address.Value));
            Assert.Equal(crashIpc.Select(c => c.Fields[1] + "/" + c.Fields[2]), ipc.Select(o => o.KeyHex + "/" + o.Id));

            var swap = new SwapReader(k).Enumerate(e => throw e).ToList();
            var swapText = Text("swap.txt");
            foreach (var s in swap) Assert.Contains($"{s.SwapInfo:x16}", swapText);
            Assert.All(swap, s => Assert.Matches($@"{s.SwapInfo:x16}\s+{s.Type}\s+{s.Size}k\s+{s.Used}k\s+{s.Percent}%\s+{s.Priority}\s+{System.Text.RegularExpressions.Regex.Escape(s.FileName)}", swapText));

            var lines = new MemoryInfoReader(k).ReadLines();
            var crashKmem = MemoryInfoTests.ParseKmemI(Text("kmem-i.txt"));
            Assert.Equal(crashKmem.Select(c => $"{c.Name} {c.Pages} {c.Size} {c.Pct}"), lines.Select(l => $"{l.Name} {l.Pages} {l.Size} {l.PercentText}"));
            checkedDumps++;
            _out.WriteLine($"{dump}: {irq.Count} IRQ lines, {ipc.Count} IPC objects, {swap.Count} swap areas, kmem -i agree with {crashDir}");
        }
        Assert.True(checkedDumps > 0, "no fixture dump with crash answers");
    }
}
