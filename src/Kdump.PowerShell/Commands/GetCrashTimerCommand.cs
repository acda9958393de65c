using System.Management.Automation;
using Kdump.Engine.Linux.Timers;
using Kdump.Engine.Model;
using Kdump.PowerShell.Completers;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashTimer: the pending timers at the crash. By default the timer wheels of every CPU (crash's <c>timer</c>),
/// sorted by expiry per CPU and base; -HighResolution gives the hrtimers of every clock base (crash's <c>timer -r</c>).
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashTimer")]
[OutputType(typeof(CrashTimer))]
public sealed class GetCrashTimerCommand : VmcoreCommandBase
{
    /// <summary>Only these CPUs (crash's timer -C).</summary>
    [Parameter(Position = 0)]
    [ValidateRange(0, 65535)]
    [ArgumentCompleter(typeof(CpuCompleter))]
    public int[]? Cpu { get; set; }

    /// <summary>The high-resolution timers (hrtimer_bases) instead of the timer wheels.</summary>
    [Parameter]
    public SwitchParameter HighResolution { get; set; }

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        TimerReader? reader = null;
        if (!TryEngine(() => reader = new TimerReader(v.Kernel, v), v)) return;
        var warnings = new List<string>();
        TryEngine(() =>
        {
            var timers = HighResolution ? reader!.HrTimers(Cpu, warnings.Add, Cancellation) : reader!.WheelTimers(Cpu, warnings.Add, Cancellation);
            foreach (var t in timers)
            {
                foreach (var w in warnings) WriteWarning(w);
                warnings.Clear();
                WriteObject(t);
            }
        }, v);
        foreach (var w in warnings) WriteWarning(w);
    }
}
