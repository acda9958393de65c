using System.Text.RegularExpressions;
using Kdump.Engine.Linux.Irq;
using Kdump.Engine.Model;
using Kdump.Engine.Tests.Linux;

namespace Kdump.Engine.Tests.Irq;

public class IrqTests
{
    /// <summary>One line of crash's irq -s: irq, per-CPU counts, chip ("IO-APIC-edge"), name.</summary>
    internal static List<(int Irq, ulong[] Counts, string Chip, string Name)> ParseCrashIrqS(string text, int cpus)
    {
        var rows = new List<(int, ulong[], string, string)>();
        var re = new Regex(@"^\s*(\d+):((?:\s+\d+){" + cpus + @"})\s+(\S+)\s+(.*)$");
        foreach (var line in text.Split('\n'))
        {
            var m = re.Match(line.TrimEnd('\r'));
            if (!m.Success) continue;
            var counts = m.Groups[2].Value.Split(' ', StringSplitOptions.RemoveEmptyEntries).Select(ulong.Parse).ToArray();
            rows.Add((int.Parse(m.Groups[1].Value), counts, m.Groups[3].Value, m.Groups[4].Value.Trim()));
        }
        return rows;
    }

    private static List<CrashIrqStatistics> Statistics(IReadOnlyList<int>? cpus = null)
    {
        var errors = new List<KdumpException>();
        var list = new IrqReader(SampleDump.Vmcore.Kernel).EnumerateStatistics(cpus, errors.Add).ToList();
        Assert.Empty(errors);
        return list;
    }

    [SampleFact]
    public void EveryLineAndCountMatchesCrashIrqS()
    {
        var crash = ParseCrashIrqS(SampleDump.CrashText("irq.txt"), 2);
        Assert.Equal(13, crash.Count);
        var ours = Statistics();
        Assert.Equal(crash.Select(c => c.Irq), ours.Select(o => o.Irq));
        for (int i = 0; i < crash.Count; i++)
        {
            var (irq, counts, chip, name) = crash[i];
            var o = ours[i];
            Assert.True(counts.SequenceEqual(o.CountsPerCpu), $"IRQ {irq}: counts {string.Join(",", o.CountsPerCpu)} vs crash {string.Join(",", counts)}");
            Assert.Equal(counts.Aggregate(0UL, (a, b) => a + b), o.Total);
            Assert.Equal(chip, o.CrashChip);
            Assert.Equal(name, o.Name);
            Assert.Equal(new[] { 0, 1 }, o.Cpus);
        }
    }

    [SampleFact]
    public void EveryLineMatchesTheGuestsProcInterrupts()
    {
        // The guest's /proc/interrupts was taken before the crash: lines, chips and names agree; counts only grow.
        var truth = SampleDump.Truth.GetProperty("interrupts").EnumerateArray()
            .Where(e => int.TryParse(e.GetProperty("irq").GetString(), out _))
            .Select(e => (Irq: int.Parse(e.GetProperty("irq").GetString()!), Counts: e.GetProperty("counts").EnumerateArray().Select(c => c.GetUInt64()).ToArray(),
                Description: e.GetProperty("description").GetString()!))
            .ToList();
        var ours = Statistics();
        Assert.Equal(truth.Select(t => t.Irq), ours.Select(o => o.Irq));
        foreach (var (t, o) in truth.Zip(ours))
        {
            Assert.Equal(t.Description, $"{o.Chip} {o.Name}");
            for (int c = 0; c < t.Counts.Length; c++) Assert.True(o.CountsPerCpu[c] >= t.Counts[c], $"IRQ {t.Irq} CPU {c}: {o.CountsPerCpu[c]} < {t.Counts[c]}");
        }
    }

    [SampleFact]
    public void CpuSelectionKeepsOnlyThoseColumns()
    {
        var all = Statistics();
        var cpu1 = Statistics(new[] { 1 });
        Assert.Equal(all.Select(a => a.Irq), cpu1.Select(a => a.Irq));
        foreach (var (a, b) in all.Zip(cpu1))
        {
            Assert.Equal(new[] { 1 }, b.Cpus);
            Assert.Equal(a.CountsPerCpu[1], Assert.Single(b.CountsPerCpu));
            Assert.Equal(a.CountsPerCpu[1], b.Total);
        }
        var ex = Assert.Throws<KdumpException>(() => new IrqReader(SampleDump.Vmcore.Kernel).EnumerateStatistics(new[] { 7 }, _ => { }).ToList());
        Assert.Equal("CpuNotFound", ex.ErrorId);
    }

    [SampleFact]
    public void DescriptorListHasEveryAllocatedIrqWithItsAction()
    {
        var errors = new List<KdumpException>();
        var list = new IrqReader(SampleDump.Vmcore.Kernel).Enumerate(errors.Add).ToList();
        Assert.Empty(errors);
        Assert.Equal(Enumerable.Range(0, 16).Concat(Enumerable.Range(24, 6)), list.Select(d => d.Irq));
        var timer = list[0];
        Assert.Equal("timer", timer.Name);
        Assert.NotEqual(0UL, timer.Action.Value);
        Assert.Equal("IO-APIC", timer.ChipName);
        Assert.Equal(2UL, timer.HwIrq);
        Assert.Equal("edge", timer.FlowName);
        Assert.Equal(new[] { 0, 1 }, timer.Affinity);
        Assert.Equal(0UL, list.Single(d => d.Irq == 2).Action.Value);
        Assert.Equal("", list.Single(d => d.Irq == 2).Name);
        // virtio queue vectors are bound to one CPU each
        Assert.Equal(new[] { 0 }, list.Single(d => d.Irq == 25).Affinity);
        Assert.Equal(new[] { 1 }, list.Single(d => d.Irq == 26).Affinity);
        // each descriptor really is the kernel's: irq_data.irq agrees with the tree index
        foreach (var d in list) Assert.Equal((uint)d.Irq, SampleDump.Vmcore.Kernel.Object(d.Descriptor, "struct irq_desc").ReadField<uint>("irq_data.irq"));
    }

    [SampleFact]
    public void CorruptDescriptorIsAPerItemErrorAndTheRestComeOut()
    {
        var good = new IrqReader(SampleDump.Vmcore.Kernel).Enumerate(_ => { }).ToList();
        var victim = good.Single(d => d.Irq == 3);
        var p = PatchedMemory.SampleProgram((mem, prog) =>
        {
            // the irqaction chain of IRQ 3 points to itself through ->next; IRQ 4's chip pointer is garbage
            ulong actionNext = victim.Action + KernelObjectOffsets(prog, "struct irqaction", "next");
            mem.WriteU64(PatchedMemory.Phys(prog, actionNext), victim.Action);
            var irq4 = good.Single(d => d.Irq == 4);
            ulong chip = irq4.Descriptor + KernelObjectOffsets(prog, "struct irq_desc", "irq_data.chip");
            mem.WriteU64(PatchedMemory.Phys(prog, chip), 0xdead000000000000);
        });
        var errors = new List<KdumpException>();
        var list = new IrqReader(p).Enumerate(errors.Add).ToList();
        Assert.Equal(good.Count - 2, list.Count);
        Assert.Equal(2, errors.Count);
        Assert.All(errors, e => Assert.Equal("IrqDescriptorUnreadable", e.ErrorId));
        Assert.Contains(errors, e => e.Target is 3 && e.InnerException is KdumpException { ErrorId: "ListCycle" });
        Assert.Contains(errors, e => e.Target is 4);
    }

    internal static ulong KernelObjectOffsets(Kdump.Engine.Program.KernelProgram p, string type, string member)
        => Kdump.Engine.Program.KernelObject.MemberOffset(p.FindType(type), member);
}
