using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Irq;
using Kdump.Engine.Model;
using Kdump.Engine.Program;

using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashIrq: the interrupt descriptors of a dump (crash's irq), or with -Statistics the per-CPU counts as crash's
/// irq -s and /proc/interrupts show them.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashIrq")]
[OutputType(typeof(CrashIrq))]
[OutputType(typeof(CrashIrqStatistics))]
public sealed class GetCrashIrqCommand : VmcoreCommandBase
{
    /// <summary>Only these IRQ numbers.</summary>
    [Parameter(Position = 0, ValueFromPipelineByPropertyName = true)]
    [ValidateRange(0, int.MaxValue)]
    [ArgumentCompleter(typeof(IrqCompleter))]
    public int[]? Irq { get; set; }

    /// <summary>The /proc/interrupts view: per-CPU counts, total, chip and every action name (crash's irq -s).</summary>
    [Parameter]
    public SwitchParameter Statistics { get; set; }

    /// <summary>With -Statistics: only these CPUs' counts (crash's irq -s -c). Without: only IRQs whose affinity includes one of them.</summary>
    [Parameter]
    [ValidateRange(0, 65535)]
    [ArgumentCompleter(typeof(CpuCompleter))]
    public int[]? Cpu { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        KernelProgram? k = null;
        IrqReader? reader = null;
        if (!TryEngine(() => { k = v.Kernel; reader = new IrqReader(k); }, v)) return;
        var wanted = Irq is { Length: > 0 } ? new HashSet<int>(Irq) : null;
        var found = new HashSet<int>();
        TryEngine(() =>
        {
            if (Statistics)
            {
                var cpus = Cpu is { Length: > 0 } ? Cpu.Distinct().OrderBy(c => c).ToArray() : null;
                foreach (var s in reader!.EnumerateStatistics(cpus, ex => WriteKdumpError(ex), Cancellation))
                {
                    if (wanted is not null && !wanted.Contains(s.Irq)) continue;
                    found.Add(s.Irq);
                    WriteObject(s);
                }
            }
            else
            {
                foreach (var d in reader!.Enumerate(ex => WriteKdumpError(ex), Cancellation))
                {
                    if (wanted is not null && !wanted.Contains(d.Irq)) continue;
                    if (Cpu is { Length: > 0 } && !d.Affinity.Any(c => Cpu.Contains(c))) continue;
                    found.Add(d.Irq);
                    WriteObject(d);
                }
            }
        }, v);
        if (wanted is not null)
            foreach (var i in wanted.Where(i => !found.Contains(i)).OrderBy(i => i))
                WriteKdumpError(new KdumpException("IrqNotFound", KdumpErrorKind.NotFound,
                    Statistics ? $"IRQ {i} has no descriptor with an action or a count in this dump." : $"IRQ {i} has no descriptor in this dump.", i));
    }
}
