using System.Management.Automation;
using Kdump.Engine;
using Kdump.Engine.Linux.Triage;
using Kdump.Engine.Model;

namespace Kdump.PowerShell.Commands;

/// <summary>
/// Get-CrashTriage: the first look at a dump as one object: panic class and message, the panicking task and its
/// backtrace, a stable panic signature (group a fleet with Group-Object SignatureHash), taint, uptime, load,
/// memory pressure, the task on each CPU, the D-state tasks, the last error lines and what the log warned about.
/// Takes dumps from the pipeline (Open-Vmcore's or Get-Vmcore's output, bound by identity) or -Vmcore; the current dump otherwise.
/// </summary>
[Cmdlet(VerbsCommon.Get, "CrashTriage")]
[OutputType(typeof(CrashTriage))]
public sealed class GetCrashTriageCommand : VmcoreCommandBase
{
    /// <summary>How many of the last error-or-worse log lines to keep (default 20).</summary>
    [Parameter]
    [ValidateRange(0, 10000)]
    public int ErrorLines { get; set; } = 20;

    /// <summary>How many D-state tasks get a backtrace, longest-waiting first (default 32; all are counted).</summary>
    [Parameter]
    [ValidateRange(0, 100000)]
    public int BlockedTasks { get; set; } = 32;

    protected override void ProcessRecord()
    {
        var v = ResolveVmcore();
        var options = new TriageOptions { ErrorLines = ErrorLines, BlockedTasks = BlockedTasks };
        CrashTriage? t = null;
        if (!TryEngine(() => t = TriageReader.Read(v, options, Cancellation), v)) return;
        foreach (var p in t!.Problems) WriteVerbose($"{v.Name}: {p}");
        WriteObject(t);
    }
}
