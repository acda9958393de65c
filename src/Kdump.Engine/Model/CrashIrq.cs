using Kdump.Engine;
namespace Kdump.Engine.Model;

/// <summary>One interrupt descriptor (crash's <c>irq</c>): the IRQ number, its irq_desc, its first irqaction and name.</summary>
public sealed class CrashIrq : DumpRecord
{
    public int Irq { get; init; }
    /// <summary>Address of the struct irq_desc.</summary>
    public KernelAddress Descriptor { get; init; }
    /// <summary>Address of the first struct irqaction (desc->action), 0 when no handler is installed.</summary>
    public KernelAddress Action { get; init; }
    /// <summary>The first action's name (request_irq's name), empty when there is no action.</summary>
    public string Name { get; init; } = "";
    /// <summary>Every irqaction on the chain (shared interrupts have several).</summary>
    public IReadOnlyList<ulong> Actions { get; init; } = Array.Empty<ulong>();
    /// <summary>Every action's name, in chain order.</summary>
    public IReadOnlyList<string> ActionNames { get; init; } = Array.Empty<string>();
    /// <summary>irq_data.chip->name ("IO-APIC", "PCI-MSI"), empty when no chip.</summary>
    public string ChipName { get; init; } = "";
    /// <summary>irq_data.hwirq (the interrupt number inside its domain).</summary>
    public ulong HwIrq { get; init; }
    /// <summary>desc->name, the flow handler's name ("edge", "fasteoi"), empty when unset.</summary>
    public string FlowName { get; init; } = "";
    /// <summary>The CPUs in irq_common_data.affinity.</summary>
    public IReadOnlyList<int> Affinity { get; init; } = Array.Empty<int>();
    public override string ToString() => $"{Irq,4} {Descriptor:x16} {(Action == 0 ? "(unused)" : $"{Action:x16} \"{Name}\"")}";
}

/// <summary>
/// One line of crash's <c>irq -s</c> and /proc/interrupts: the per-CPU counts (desc->kstat_irqs), their total, the
/// chip text as /proc/interrupts prints it ("IO-APIC 2-edge") and every action name.
/// </summary>
public sealed class CrashIrqStatistics : DumpRecord
{
    public int Irq { get; init; }
    public KernelAddress Descriptor { get; init; }
    /// <summary>The CPUs whose counts are in <see cref="CountsPerCpu"/> (all CPUs, or the -Cpu selection).</summary>
    public IReadOnlyList<int> Cpus { get; init; } = Array.Empty<int>();
    /// <summary>Interrupt counts, one per entry of <see cref="Cpus"/>.</summary>
    public IReadOnlyList<ulong> CountsPerCpu { get; init; } = Array.Empty<ulong>();
    public ulong Total { get; init; }
    /// <summary>/proc/interrupts' chip column: chip name, hwirq and flow ("IO-APIC 2-edge", "PCI-MSI 32769-edge").</summary>
    public string Chip { get; init; } = "";
    /// <summary>crash's chip column: chip name and flow ("IO-APIC-edge").</summary>
    public string CrashChip { get; init; } = "";
    public string ChipName { get; init; } = "";
    public ulong HwIrq { get; init; }
    public string FlowName { get; init; } = "";
    /// <summary>Every action name joined with ", " (as /proc/interrupts shows a shared line).</summary>
    public string Name { get; init; } = "";
    public IReadOnlyList<int> Affinity { get; init; } = Array.Empty<int>();
    public override string ToString() => $"{Irq,3}: {string.Join(" ", CountsPerCpu.Select(c => c.ToString().PadLeft(10)))}  {Chip}  {Name}";
}
