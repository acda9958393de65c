# Issue 12.7: every help example that names samples/ runs verbatim (its PS> lines, from the repository root) on the
# sample dump without any error; the module manifest exports exactly the module's cmdlets; about_Kdump exists.
BeforeDiscovery {
    . (Join-Path $PSScriptRoot 'common.ps1')
    $script:Examples = foreach ($c in Get-Command -Module Kdump -CommandType Cmdlet) {
        $i = 0
        foreach ($e in (Get-Help $c.Name -Full).Examples.Example) {
            $i++
            $code = "$($e.Code)"
            if ($code -notmatch 'samples/') { continue }
            $lines = @($code -split "`r?`n" | Where-Object { $_ -match '^PS> ' } | ForEach-Object { $_.Substring(4) })
            @{ Name = $c.Name; Number = $i; Script = ($lines -join "`n") }
        }
    }
}

BeforeAll {
    . (Join-Path $PSScriptRoot 'common.ps1')
}

Describe 'Help examples on samples/' -Skip:(-not $HaveSample) {
    It 'there are examples that use the sample dump' {
        @($Examples).Count | Should -BeGreaterThan 5
    }
    It '<Name> example <Number> runs without error' -TestCases $Examples {
        $ps = [powershell]::Create()
        try {
            [void]$ps.AddScript("Import-Module '$(Join-Path $ModulePath 'Kdump.psd1')'; Set-Location '$RepoRoot'").Invoke()
            $ps.Commands.Clear()
            [void]$ps.AddScript($Script)
            try { [void]$ps.Invoke() } catch { throw "example threw: $($_.Exception.InnerException ?? $_.Exception)" }
            $errors = @($ps.Streams.Error | ForEach-Object { "$($_.FullyQualifiedErrorId): $_" })
            $errors | Should -BeNullOrEmpty -Because "the example is:`n$Script"
        }
        finally {
            $ps.Commands.Clear()
            [void]$ps.AddScript('Get-Vmcore | Close-Vmcore').Invoke()
            $ps.Dispose()
        }
    }
}

Describe 'Module manifest and about topic' {
    BeforeAll { $script:Manifest = Import-PowerShellDataFile (Join-Path $ModulePath 'Kdump.psd1') }
    It 'exports an explicit list: exactly the cmdlets the assembly defines' {
        $Manifest.CmdletsToExport | Should -Not -Contain '*'
        $Manifest.CmdletsToExport | ForEach-Object { $_ | Should -Not -Match '[*?]' }
        $defined = [Kdump.PowerShell.KdumpCmdlet].Assembly.GetTypes() |
            ForEach-Object { $_.GetCustomAttributes([System.Management.Automation.CmdletAttribute], $false) } |
            ForEach-Object { "$($_.VerbName)-$($_.NounName)" }
        ($Manifest.CmdletsToExport | Sort-Object) | Should -Be ($defined | Sort-Object)
    }
    It 'has a ProjectUri and a LicenseUri' {
        $Manifest.PrivateData.PSData.ProjectUri | Should -Match '^https://'
        $Manifest.PrivateData.PSData.LicenseUri | Should -Match '^https://'
    }
    It 'ships about_Kdump' {
        Test-Path (Join-Path $ModulePath 'en-US/about_Kdump.help.txt') | Should -BeTrue
        (Get-Help about_Kdump | Out-String) | Should -Match 'current dump'
    }
}
